import test from 'ava'
import { checkPrefix, replaceSetScript, setupScript, teardownScript } from '../../../../agent/drivers/nftables/ruleset.ts'
import { CollectorError } from '../../../../agent/drivers/types.ts'

const base = { hook: 'bridge' as const, table: 'heliotrope', setSize: 1000, timeoutSec: 600, priority: 300, local: ['fd00:a::11', 'fd00:a:1::/64'], platform: ['fd00:a::/48'] }

test('the setup script replaces the table atomically and counts local senders and external-to-local', t => {
  const s = setupScript(base)
  t.true(s.startsWith('add table bridge heliotrope\ndelete table bridge heliotrope\ntable bridge heliotrope {\n'), 'idempotent: add, delete, create in one transaction')
  t.regex(s, /set flows \{ type ipv6_addr \. ipv6_addr; size 1000; flags dynamic,timeout; timeout 600s; counter; \}/)
  t.regex(s, /type filter hook forward priority 300; policy accept;/)
  t.regex(s, /ip6 saddr @local goto count\n\s+ip6 daddr @local ip6 saddr != @platform goto count/)
  t.regex(s, /update @flows \{ ip6 saddr \. ip6 daddr \} return\n\s+counter name "uncounted"/)
  t.regex(s, /add element bridge heliotrope local \{ fd00:a::11, fd00:a:1::\/64 \}/)
  t.regex(s, /add element bridge heliotrope platform \{ fd00:a::\/48 \}/)
  t.notRegex(setupScript({ ...base, hook: 'inet', local: [], platform: [] }), /add element/)
  t.regex(setupScript({ ...base, hook: 'inet' }), /^table inet heliotrope \{$/m)
})

test('replacing a set flushes and refills it in one script; teardown tolerates a missing table', t => {
  t.is(replaceSetScript('inet', 't1', 'local', ['fd00::1']), 'flush set inet t1 local\nadd element inet t1 local { fd00::1 }\n')
  t.is(replaceSetScript('inet', 't1', 'local', []), 'flush set inet t1 local\n')
  t.is(teardownScript('bridge', 't1'), 'add table bridge t1\ndelete table bridge t1\n')
})

test('only IPv6 addresses and prefixes reach a script', t => {
  for (const ok of ['::1', 'fd00::/8', 'fd00:a::11', '::ffff:10.0.0.1', '2001:db8::/128']) t.is(checkPrefix(ok), ok)
  for (const bad of ['10.0.0.1', 'fd00::/129', 'fd00::/-1', 'fd00::/64/1', 'fe80::1%eth0', 'fd00::1 }', '', 'fd00::/']) {
    t.throws(() => checkPrefix(bad), { instanceOf: CollectorError }, bad)
  }
  t.throws(() => setupScript({ ...base, table: 'a b' }), { instanceOf: CollectorError })
  t.throws(() => setupScript({ ...base, setSize: 0 }), { instanceOf: CollectorError })
})
