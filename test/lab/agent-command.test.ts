/** `heliotrope lab agent`: the agent command with the lab's drivers, run as its own process. */
import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePsk, loadOrCreatePeerKey } from '../../agent/net/keys.ts'
import { SimWorld } from '../../lab/drivers/sim-host/world.ts'

const BIN = new URL('../../agent/bin/heliotrope.js', import.meta.url).pathname

function run (args: string[], opts: { until?: RegExp, signalAfterMatch?: NodeJS.Signals, timeoutMs?: number } = {}): Promise<{ code: number | null, out: string, err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''; let err = ''; let signalled = false
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out; stdout:\n${out}\nstderr:\n${err}`)) }, opts.timeoutMs ?? 30_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!signalled && opts.until !== undefined && opts.until.test(out) && opts.signalAfterMatch !== undefined) { signalled = true; child.kill(opts.signalAfterMatch) }
    })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('exit', code => { clearTimeout(timer); resolve({ code, out, err }) })
  })
}

// The agent command on the lab's sim drivers (`heliotrope lab agent` is `heliotrope agent` with them registered).
test('`heliotrope lab agent` runs from a config file and stops cleanly on SIGTERM', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htcli-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const key = await loadOrCreatePeerKey(join(dir, 'state'))
  await writeFile(join(dir, 'psk'), generatePsk(), { mode: 0o600 })
  await writeFile(join(dir, 'topology.json'), JSON.stringify({ dcs: [{ id: 'A' }], links: [] }))
  await new SimWorld(join(dir, 'world')).init([{ id: 'vm1', host: 'h1', memoryMiB: 512, vcpus: 1, addresses: ['fd00::5'] }], { flows: [], prefixes: [] })
  const config = {
    cluster: 'cli', host: 'h1', dc: 'A', stateDir: join(dir, 'state'), listen: ['/ip6/::1/tcp/0'], pskFile: join(dir, 'psk'),
    members: [{ host: 'h1', peerId: key.peerId }], topologyFile: join(dir, 'topology.json'), address: 'fd00::1',
    capacity: { memoryMiB: 4096, vcpus: 4 }, roundPeriodMs: 1000,
    // A config without mode only observes; this one is to plan.
    mode: 'auto',
    collector: { kind: 'sim', world: join(dir, 'world') }, hypervisor: { kind: 'sim', world: join(dir, 'world') }
  }
  await writeFile(join(dir, 'config.json'), JSON.stringify(config))
  const r = await run(['lab', 'agent', '--config', join(dir, 'config.json')], { until: /"msg":"planned"/, signalAfterMatch: 'SIGTERM' })
  const lines = r.out.trim().split('\n').map(l => JSON.parse(l) as { msg: string, [k: string]: unknown })
  t.is(r.code, 0, r.err)
  t.true(lines.some(l => l.msg === 'agent started' && l.peerId === key.peerId))
  t.true(lines.some(l => l.msg === 'planned'), 'a one-host cluster still plans its rounds')
  t.true(lines.some(l => l.msg === 'stopping' && l.signal === 'SIGTERM'))
  t.is(lines.at(-1)!.msg, 'agent stopped')
})
