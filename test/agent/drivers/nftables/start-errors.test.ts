/**
 * What start() says when it cannot count: no nft, something else named nft,
 * no privileges, no such namespace. Each is a CollectorError at start().
 */
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import test from 'ava'
import { NftablesCollector } from '../../../../agent/drivers/nftables/collector.ts'
import { CollectorError } from '../../../../agent/drivers/types.ts'
import { requires } from '../../../prerequisites.ts'
import { Namespaces, nftBinary, run } from './netns.ts'

/** For the tests that run the real nft in a namespace. */
const labTest = await requires('test/agent/drivers/nftables/start-errors.test.ts', 'root', 'iproute2', 'nftables', 'nf_tables', 'netns')

/** A directory holding an executable `nft` that is not nftables (like @vercel/nft's CLI in node_modules/.bin). */
async function impostorDir (t: { teardown: (f: () => Promise<void>) => void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'htnft-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'nft'), '#!/bin/sh\necho "nft 0.24.0 (node file trace)"\n')
  await chmod(join(dir, 'nft'), 0o755)
  return dir
}

test('no nft on the search path: CollectorError at start()', async t => {
  const empty = await mkdtemp(join(tmpdir(), 'htnft-'))
  t.teardown(() => rm(empty, { recursive: true, force: true }))
  const c = new NftablesCollector({}, { searchPath: [empty, '/nonexistent'] })
  await t.throwsAsync(c.start(), { instanceOf: CollectorError, message: /nft binary not found in .*nonexistent.*install the nftables package/ })
  await t.throwsAsync(new NftablesCollector({}, { nftPath: '/nonexistent/nft' }).start(), { instanceOf: CollectorError, message: /not found in \/nonexistent\/nft/ })
  await t.throwsAsync(c.read(0), { instanceOf: CollectorError, message: /before start/ })
  await t.notThrowsAsync(c.stop(), 'stop after a failed start is a no-op')
})

test('an nft that is not nftables is named when it is the only one', async t => {
  const fake = await impostorDir(t)
  await t.throwsAsync(new NftablesCollector({}, { searchPath: [fake] }).start(), { instanceOf: CollectorError, message: /not nftables: .*nft 0\.24\.0/ })
})

labTest('an nft that is not nftables is skipped when the real one is further down the path', async t => {
  const fake = await impostorDir(t)
  // The search passes the impostor by and reaches the namespace step.
  const c = new NftablesCollector({}, { searchPath: [fake, dirname(await nftBinary())], netns: 'htnft-never-created' })
  await t.throwsAsync(c.start(), { instanceOf: CollectorError, message: /Cannot open network namespace "htnft-never-created"/ })
})

labTest('nft without privileges: CollectorError at start() that says so, and nothing left behind', async t => {
  t.timeout(30_000)
  const ns = new Namespaces(t)
  const host = await ns.add('host')
  const nft = await nftBinary()
  // A fresh user namespace holds no capability over the host's network
  // namespace; an unprivileged uid holds none at all.
  for (const wrapper of [['unshare', '-U'], ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups']]) {
    const c = new NftablesCollector({}, { netns: host, table: 'htnft_perm', wrapper })
    await t.throwsAsync(c.start(), { instanceOf: CollectorError, message: /no permission.*CAP_NET_ADMIN/ }, wrapper[0])
  }
  t.notRegex(await run(['ip', 'netns', 'exec', host, nft, 'list', 'tables']), /htnft_perm/)
})

test('bad configuration is refused at start() before anything runs', async t => {
  const fake = await impostorDir(t)
  const bad: Array<[ConstructorParameters<typeof NftablesCollector>[0], RegExp]> = [
    [{ table: 'x; flush ruleset' }, /bad nftables table name/],
    [{ localAddresses: ['fd00::1 }; flush ruleset; add element x y { ::1'] }, /not an IPv6 address/],
    [{ platformPrefixes: ['fd00::/129'] }, /not an IPv6 address or prefix/],
    [{ localAddresses: ['10.0.0.1'] }, /not an IPv6 address/],
    [{ hooks: [] }, /no hook/]
  ]
  for (const [init, message] of bad) {
    await t.throwsAsync(new NftablesCollector({}, { ...init, searchPath: [fake] }).start(), { instanceOf: CollectorError, message })
  }
})
