/** The machine checks with their inputs given: Node, root, IPv6, forwarding, bridge netfilter, the clock, the kernel's nf_tables. */
import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { checkBridgeNetfilter, checkClock, checkForwarding, checkIpv6, checkNfTables, checkNode, checkRoot } from '../../../agent/doctor/system-checks.ts'
import { lookupTool, TOOLS } from '../../../agent/host/system-tools.ts'
import { requires } from '../../prerequisites.ts'

const kernelTest = await requires('test/agent/doctor/system-checks.test.ts', 'root', 'nftables')

async function procDir (t: { teardown: (f: () => Promise<void>) => void }, files: Record<string, string>): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'htproc-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await mkdir(dir, { recursive: true })
  for (const [name, value] of Object.entries(files)) await writeFile(join(dir, name), `${value}\n`)
  return dir
}

test('node: 22 and newer pass, older fail with the fix', t => {
  t.is(checkNode('24.21.0').status, 'ok')
  t.is(checkNode('22.0.0').status, 'ok')
  const old = checkNode('20.20.2')
  t.is(old.status, 'fail')
  t.regex(old.detail, /20\.20\.2.*22 or newer/)
  t.truthy(old.fix)
})

test('root: uid 0 passes, another uid fails', t => {
  t.is(checkRoot(0).status, 'ok')
  t.is(checkRoot(1000).status, 'fail')
})

test('ipv6: enabled, disabled, absent', async t => {
  t.is(checkIpv6(await procDir(t, { disable_ipv6: '0' })).status, 'ok')
  const off = checkIpv6(await procDir(t, { disable_ipv6: '1' }))
  t.is(off.status, 'fail')
  t.regex(off.fix ?? '', /disable_ipv6=0/)
  t.is(checkIpv6('/nonexistent').status, 'fail')
})

test('forwarding: needed by routed hosts only', async t => {
  const off = await procDir(t, { forwarding: '0' })
  t.is(checkForwarding(true, off).status, 'fail')
  t.is(checkForwarding(false, off).status, 'ok')
  t.is(checkForwarding(true, await procDir(t, { forwarding: '1' })).status, 'ok')
})

test('bridge netfilter: on with both hooks fails (double counting), otherwise fine', async t => {
  const on = join(await procDir(t, { 'bridge-nf-call-ip6tables': '1' }), 'bridge-nf-call-ip6tables')
  const off = join(await procDir(t, { 'bridge-nf-call-ip6tables': '0' }), 'bridge-nf-call-ip6tables')
  t.is(checkBridgeNetfilter(['bridge', 'inet'], on).status, 'fail')
  t.is(checkBridgeNetfilter(['bridge'], on).status, 'ok')
  t.is(checkBridgeNetfilter(['bridge', 'inet'], off).status, 'ok')
  t.is(checkBridgeNetfilter(['bridge', 'inet'], '/nonexistent').status, 'ok', 'module not loaded: nothing to double count')
})

test('clock: synchronized, not synchronized, chrony, and unknown', t => {
  const answers = (timedatectl: string | Error, chronyc: string | Error) => (name: string): string => {
    const a = name === 'timedatectl' ? timedatectl : chronyc
    if (a instanceof Error) throw a
    return a
  }
  const none = new Error('not here')
  t.is(checkClock(answers('yes\n', none)).status, 'ok')
  t.is(checkClock(answers('no\n', none)).status, 'fail')
  t.is(checkClock(answers(none, 'Reference ID    : 0\nLeap status     : Normal\n')).status, 'ok')
  t.is(checkClock(answers(none, 'Leap status     : Not synchronised\n')).status, 'fail')
  const unknown = checkClock(answers(none, none))
  t.is(unknown.status, 'warn')
  t.regex(unknown.detail, /cannot tell/)
})

test('nf_tables: without nft there is nothing to ask', t => {
  t.is(checkNfTables(undefined).status, 'fail')
})

kernelTest('nf_tables: the kernel accepts a table (dry run), and nothing is left behind', t => {
  const nft = lookupTool(TOOLS.nft)
  t.true(nft.found)
  if (!nft.found) return
  t.is(checkNfTables(nft.path).status, 'ok')
  t.notRegex(execFileSync(nft.path, ['list', 'tables'], { encoding: 'utf8' }), /heliotrope_doctor/)
  t.is(checkNfTables('/bin/false').status, 'fail', 'an nft that refuses is a failure')
})
