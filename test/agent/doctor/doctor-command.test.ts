/**
 * `heliotrope doctor --config F` on a host as an operator would run it: a
 * good host passes (exit 0), a key others can read fails with the fix, a
 * topology without the host's DC and a bootstrap peer that does not answer
 * fail, `--json` says the same. Real tools: nftables, QEMU, a TCP listener
 * on [::1] standing in for a bootstrap peer.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePsk } from '../../../agent/net/keys.ts'
import { heliotrope } from '../cli-run.ts'
import anyTest from 'ava'
import { requires } from '../../prerequisites.ts'

const test = await requires('test/agent/doctor/doctor-command.test.ts', 'root', 'nftables', 'qemu')

interface Host { dir: string, configPath: string, pskFile: string, config: Record<string, unknown> }

async function listen (): Promise<{ server: Server, port: number }> {
  const server = createServer(s => s.destroy())
  await new Promise<void>(resolve => server.listen(0, '::1', resolve))
  return { server, port: (server.address() as { port: number }).port }
}

async function makeHost (t: { teardown: (f: () => Promise<void> | void) => void }, bootstrapPort: number): Promise<Host> {
  const dir = await mkdtemp(join(tmpdir(), 'htdoctor-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  const pskFile = join(dir, 'psk')
  await writeFile(pskFile, generatePsk(), { mode: 0o600 })
  await writeFile(join(dir, 'topology.json'), JSON.stringify({ dcs: [{ id: 'A' }, { id: 'B' }], links: [{ from: 'A', to: 'B', capacityBps: 1e9 }, { from: 'B', to: 'A', capacityBps: 1e9 }] }))
  await mkdir(join(dir, 'qemu'))
  await mkdir(join(dir, 'state'), { mode: 0o700 })
  const config = {
    cluster: 'doc', host: 'h1', dc: 'A', pskFile, stateDir: join(dir, 'state'),
    members: [{ host: 'h1', peerId: '12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp' }],
    bootstrap: [`/ip6/::1/tcp/${bootstrapPort}/p2p/12D3KooWEyoppNCUx8Yx66oV9fJnriXwCcXwDDUA2kj6vnc6iDEp`],
    topologyFile: join(dir, 'topology.json'), address: 'fd00::1', capacity: { memoryMiB: 4096, vcpus: 4 },
    collector: { kind: 'nftables', hooks: ['bridge'], platformPrefixes: ['fd00:1::/64'] },
    hypervisor: { kind: 'qemu', dir: join(dir, 'qemu') },
    mode: 'observe'
  }
  const configPath = join(dir, 'config.json')
  await writeFile(configPath, JSON.stringify(config))
  return { dir, configPath, pskFile, config }
}

test('a good host passes, with every check listed', async t => {
  const { server, port } = await listen()
  t.teardown(() => { server.close() })
  const h = await makeHost(t, port)
  const r = await heliotrope(['doctor', '--config', h.configPath])
  t.is(r.code, 0, r.out + r.err)
  for (const id of ['node', 'ipv6', 'nftables', 'nf_tables', 'bridge-netfilter', 'qemu', 'qemu-dir', 'clock', 'psk', 'peer-key', 'topology', 'bootstrap']) {
    t.regex(r.out, new RegExp(`^(ok  |WARN)  ${id} `, 'm'), `${id} in:\n${r.out}`)
  }
  t.regex(r.out, /0 failed\n$/)
})

test('the qemu directory: missing under a writable parent passes (the agent creates it, so init -> doctor passes); missing under a file fails', async t => {
  const { server, port } = await listen()
  t.teardown(() => { server.close() })
  const h = await makeHost(t, port)
  const fresh = join(h.dir, 'state', 'qemu')
  await writeFile(h.configPath, JSON.stringify({ ...h.config, hypervisor: { kind: 'qemu', dir: fresh } }))
  const r = await heliotrope(['doctor', '--config', h.configPath])
  t.regex(r.out, /^ok +qemu-dir .*does not exist yet: the agent creates it at start/m, r.out)
  // A parent that is a file: mkdir would fail, so must doctor.
  await writeFile(join(h.dir, 'plain'), '')
  await writeFile(h.configPath, JSON.stringify({ ...h.config, hypervisor: { kind: 'qemu', dir: join(h.dir, 'plain', 'qemu') } }))
  const bad = await heliotrope(['doctor', '--config', h.configPath])
  t.is(bad.code, 1)
  t.regex(bad.out, /^FAIL +qemu-dir .*is not a writable directory/m, bad.out)
})

test('a key others can read fails with the chmod that fixes it', async t => {
  const { server, port } = await listen()
  t.teardown(() => { server.close() })
  const h = await makeHost(t, port)
  await chmod(h.pskFile, 0o644)
  const r = await heliotrope(['doctor', '--config', h.configPath])
  t.is(r.code, 1)
  t.regex(r.out, /^FAIL {2}psk .*mode 644/m)
  t.regex(r.out, new RegExp(`fix: .*chmod 600 ${h.pskFile}`))
  const json = JSON.parse((await heliotrope(['doctor', '--config', h.configPath, '--json'])).out) as { ok: boolean, checks: Array<{ id: string, status: string }> }
  t.false(json.ok)
  t.deepEqual(json.checks.filter(c => c.status === 'fail').map(c => c.id), ['psk'])
})

test('a DC the topology lacks and a bootstrap peer that does not answer both fail', async t => {
  const { server, port } = await listen()
  await new Promise<void>(resolve => server.close(() => resolve())) // nobody listens there now
  const h = await makeHost(t, port)
  await writeFile(h.configPath, JSON.stringify({ ...h.config, dc: 'C' }))
  const r = await heliotrope(['doctor', '--config', h.configPath])
  t.is(r.code, 1)
  t.regex(r.out, /^FAIL {2}topology .*no DC "C"/m)
  t.regex(r.out, /^FAIL {2}bootstrap .*no bootstrap peer answers/m)
})

// Needs nothing of the machine: runs everywhere.
anyTest('a config that does not parse is an error, not a report', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htdoctor-'))
  t.teardown(() => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'bad.json'), '{"cluster": "x",')
  const r = await heliotrope(['doctor', '--config', join(dir, 'bad.json')])
  t.is(r.code, 1)
  t.regex(r.err, /not valid JSON/)
})
