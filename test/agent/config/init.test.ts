import test from 'ava'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../agent/config.ts'
import { heliotrope } from '../cli-run.ts'

async function dirs (t: { teardown (fn: () => Promise<void>): void }): Promise<{ root: string, etc: string, state: string }> {
  const root = await mkdtemp(join(tmpdir(), 'htinit-'))
  t.teardown(async () => rm(root, { recursive: true, force: true }))
  return { root, etc: join(root, 'etc'), state: join(root, 'state') }
}

const mode = async (path: string): Promise<number> => (await stat(path)).mode & 0o777

test('init on the first host writes a loadable config, a 0600 peer key and a 0600 cluster key, and prints the peer id and the next steps; a re-run keeps everything and says so', async t => {
  const { etc, state } = await dirs(t)
  const args = ['init', '--cluster', 'prod', '--dc', 'ams', '--host', 'h1', '--address', 'fd00::1', '--dir', etc, '--state', state]
  const r = await heliotrope(args)
  t.is(r.code, 0, r.err)
  const config = parseConfig(JSON.parse(await readFile(join(etc, 'config.json'), 'utf8')))
  t.like(config, { cluster: 'prod', host: 'h1', dc: 'ams', stateDir: state, pskFile: join(etc, 'psk'), mode: 'dry-run', bootstrap: [] })
  const peerId = config.members[0]!.peerId
  t.deepEqual(config.members, [{ host: 'h1', peerId, dc: 'ams', addresses: [`/ip6/fd00::1/tcp/4001/p2p/${peerId}`] }])
  t.is(await mode(join(state, 'peer.key')), 0o600)
  t.is(await mode(join(etc, 'psk')), 0o600)
  t.regex(r.out, new RegExp(`peer id: ${peerId}`))
  t.regex(r.out, new RegExp(`join address: /ip6/fd00::1/tcp/4001/p2p/${peerId}`))
  t.regex(r.out, /wrote the cluster key .*copy it to every other host/)
  t.regex(r.out, /next:\n\s+1\. /)
  t.log(r.out)

  const key = await readFile(join(state, 'peer.key'))
  const psk = await readFile(join(etc, 'psk'))
  const again = await heliotrope(args)
  t.is(again.code, 0, again.err)
  t.regex(again.out, /kept the existing peer key/)
  t.regex(again.out, /kept the existing cluster key/)
  t.regex(again.out, /kept the existing config .*--force rewrites it; keys are never rewritten/)
  t.deepEqual(await readFile(join(state, 'peer.key')), key, 'the peer key is untouched')
  t.deepEqual(await readFile(join(etc, 'psk')), psk, 'the cluster key is untouched')
  t.regex(again.out, new RegExp(`peer id: ${peerId}`), 'the same identity')

  const forced = await heliotrope([...args.slice(0, 4), 'lon', ...args.slice(5), '--force'])
  t.is(forced.code, 0, forced.err)
  t.is(parseConfig(JSON.parse(await readFile(join(etc, 'config.json'), 'utf8'))).dc, 'lon', '--force rewrites the config')
  t.deepEqual(await readFile(join(state, 'peer.key')), key, '...and still not the key')
})

test('init --join makes no cluster key, names what to copy and sets the bootstrap; a bad --join is a usage error', async t => {
  const { etc, state } = await dirs(t)
  const first = await dirs(t)
  const r1 = await heliotrope(['init', '--cluster', 'prod', '--dc', 'ams', '--host', 'h1', '--address', 'fd00::1', '--dir', first.etc, '--state', first.state])
  const joinAddr = /join address: (\S+)/.exec(r1.out)![1]!
  const r = await heliotrope(['init', '--cluster', 'prod', '--dc', 'lon', '--host', 'h2', '--address', 'fd00::2', '--dir', etc, '--state', state, '--join', joinAddr])
  t.is(r.code, 0, r.err)
  await t.throwsAsync(stat(join(etc, 'psk')), { code: 'ENOENT' }, 'a joining host never mints a cluster key')
  t.regex(r.out, /no cluster key yet: copy .*psk from a member/)
  t.regex(r.out, /copy the "members" list from a member/)
  t.regex(r.out, /add this host's member entry .* on every other host/)
  const config = parseConfig(JSON.parse(await readFile(join(etc, 'config.json'), 'utf8')))
  t.deepEqual(config.bootstrap, [joinAddr])
  // Once the key is copied, a re-run finds it.
  await writeFile(join(etc, 'psk'), await readFile(join(first.etc, 'psk')), { mode: 0o600 })
  await writeFile(join(etc, 'topology.json'), await readFile(join(first.etc, 'topology.json')))
  const again = await heliotrope(['init', '--cluster', 'prod', '--dc', 'lon', '--host', 'h2', '--address', 'fd00::2', '--dir', etc, '--state', state, '--join', joinAddr])
  t.regex(again.out, /found the cluster key/)

  const bad = await heliotrope(['init', '--cluster', 'prod', '--dc', 'lon', '--address', 'fd00::2', '--dir', etc, '--state', state, '--join', '/ip6/fd00::1/tcp/4001'])
  t.is(bad.code, 2)
  t.regex(bad.err, /--join \/ip6\/fd00::1\/tcp\/4001: .*p2p/)
  const noCluster = await heliotrope(['init', '--dc', 'lon'])
  t.is(noCluster.code, 2)
  t.regex(noCluster.err, /--cluster NAME is required/)
})

test('init flags set the listen address, the API port and the driver kinds; the default listens on the host address only; bad flags are usage errors', async t => {
  const plain = await dirs(t)
  const r0 = await heliotrope(['init', '--cluster', 'prod', '--dc', 'ams', '--host', 'h1', '--address', 'fd00::1', '--dir', plain.etc, '--state', plain.state])
  t.is(r0.code, 0, r0.err)
  const c0 = parseConfig(JSON.parse(await readFile(join(plain.etc, 'config.json'), 'utf8')))
  t.deepEqual(c0.listen, ['/ip6/fd00::1/tcp/4001'], 'not every interface')
  t.like(c0.api, { port: 7878 })
  t.like(c0.hypervisor, { kind: 'qemu', dir: join(plain.state, 'qemu') })
  t.like(c0.collector, { kind: 'nftables' })

  const { etc, state } = await dirs(t)
  const r = await heliotrope(['init', '--cluster', 'prod', '--dc', 'ams', '--host', 'h1', '--address', 'fd00::1', '--dir', etc, '--state', state,
    '--listen', '/ip6/::/tcp/4101', '--listen', '/ip6/fd00::9/tcp/4102', '--api-port', '7901', '--hypervisor', 'libvirt', '--collector', 'file'])
  t.is(r.code, 0, r.err)
  const c = parseConfig(JSON.parse(await readFile(join(etc, 'config.json'), 'utf8')))
  t.deepEqual(c.listen, ['/ip6/::/tcp/4101', '/ip6/fd00::9/tcp/4102'])
  t.like(c.api, { port: 7901 })
  t.deepEqual(c.hypervisor, { kind: 'libvirt' })
  t.like(c.collector, { kind: 'file', path: join(state, 'traffic.json') })
  t.regex(r.out, /join address: \/ip6\/fd00::1\/tcp\/4101\/p2p\//, 'the join address takes the listen port')
  t.regex(r.out, /traffic\.json/, 'the next steps say where the flows go')

  for (const [flag, value, message] of [
    ['--hypervisor', 'vmware', /--hypervisor: one of qemu, libvirt, xen/],
    ['--collector', 'sflow', /--collector: one of nftables, file/],
    ['--api-port', '70000', /--api-port expects a port/],
    ['--listen', '/ip6/::/tcp/0', /fixed TCP port/],
    ['--listen', '/ip4/10.0.0.1/tcp/4001', /listen/]
  ] as const) {
    const bad = await dirs(t)
    const e = await heliotrope(['init', '--cluster', 'prod', '--dc', 'ams', '--host', 'h1', '--address', 'fd00::1', '--dir', bad.etc, '--state', bad.state, flag, value])
    t.is(e.code, 2, `${flag} ${value}: ${e.out}${e.err}`)
    t.regex(e.err, message)
  }
})
