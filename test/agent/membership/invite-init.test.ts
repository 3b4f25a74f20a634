import test from 'ava'
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../agent/config.ts'
import { MembershipStore } from '../../../agent/membership/store.ts'
import { decodeToken } from '../../../agent/membership/token.ts'
import { heliotrope } from '../cli-run.ts'

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

test('init makes the admin key on the first host; invite prints a token; init --join TOKEN sets the new host up from it alone', async t => {
  const root = await mkdtemp(join(tmpdir(), 'htinvite-'))
  t.teardown(async () => rm(root, { recursive: true, force: true }))
  const etc1 = join(root, 'etc1')
  const first = await heliotrope(['init', '--cluster', 'prod', '--dc', 'ams', '--host', 'h1', '--address', 'fd00::1', '--dir', etc1, '--state', join(root, 'state1')])
  t.is(first.code, 0, first.err)
  t.regex(first.out, /wrote the cluster admin key .*admin\.key \(mode 0600\)/)
  t.is(await mode(join(etc1, 'admin.key')), 0o600)
  const c1 = parseConfig(JSON.parse(await readFile(join(etc1, 'config.json'), 'utf8')))
  t.truthy(c1.adminKey, 'the config names the admin key')
  t.regex(first.out, /heliotrope invite --host H --dc DC/)

  const bad = await heliotrope(['invite', '--host', 'h2', '--dc', 'ams', '--ttl', 'soon', '--config', join(etc1, 'config.json')])
  t.is(bad.code, 2)
  t.regex(bad.err, /--ttl expects a duration/)
  const inv = await heliotrope(['invite', '--host', 'h2', '--dc', 'fra', '--ttl', '15m', '--config', join(etc1, 'config.json')])
  t.is(inv.code, 0, inv.err)
  t.regex(inv.err, /keep it secret/)
  const token = inv.out.trim()
  t.regex(token, /^hlt1\.[A-Za-z0-9_-]+$/)
  const content = decodeToken(token)
  t.like(content.invitation.body, { cluster: 'prod', host: 'h2', dc: 'fra', role: 'host' })
  t.true(content.invitation.body.joinBy - content.invitation.body.notBefore === 15 * 60_000)
  t.deepEqual(content.bootstrap, c1.members[0]!.addresses)

  const etc2 = join(root, 'etc2')
  const state2 = join(root, 'state2')
  const joined = await heliotrope(['init', '--join', token, '--address', 'fd00::2', '--dir', etc2, '--state', state2])
  t.is(joined.code, 0, joined.err)
  t.log(joined.out)
  const c2 = parseConfig(JSON.parse(await readFile(join(etc2, 'config.json'), 'utf8')))
  t.like(c2, { cluster: 'prod', host: 'h2', dc: 'fra', adminKey: c1.adminKey, roundPeriodMs: c1.roundPeriodMs, bootstrap: c1.members[0]!.addresses })
  t.deepEqual(c2.members, c1.members, 'the static members are the cluster\'s: no entry for h2 (it is a member by certificate)')
  t.deepEqual(await readFile(join(etc2, 'psk')), await readFile(join(etc1, 'psk')))
  t.is(await mode(join(etc2, 'psk')), 0o600)
  t.deepEqual(await readFile(join(etc2, 'topology.json')), await readFile(join(etc1, 'topology.json')))
  t.deepEqual((await new MembershipStore(state2).loadInvitation())?.body, content.invitation.body)
  t.false(await stat(join(etc2, 'admin.key')).then(() => true, () => false), 'no admin key on a joining host')

  const damaged = await heliotrope(['init', '--join', token.slice(0, 40), '--address', 'fd00::3', '--dir', join(root, 'etc3'), '--state', join(root, 'state3')])
  t.is(damaged.code, 2)
  t.regex(damaged.err, /damaged|not a heliotrope join token/)
})
