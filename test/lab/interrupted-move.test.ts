/**
 * A lab move cut short by its agent's death (kill -9 between the driver's
 * steps) is finished or undone when that agent's driver starts again: the
 * VM ends on exactly one host and reachable there, and the move's record is
 * gone. Without this a VM killed between "vif moved" and "vif wired" stays
 * unplugged in the target's namespace for good (lab chaos found it).
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { LabHypervisor } from '../../lab/drivers/lab-host/driver.ts'
import { tool } from '../../lab/drivers/lab-host/exec.ts'
import { moveVif, removeShortcut } from '../../lab/drivers/lab-host/fabric.ts'
import { recordMove, unfinishedMoves } from '../../lab/drivers/lab-host/journal.ts'
import { LAB_ECHO_PORT } from '../../lab/drivers/lab-host/state.ts'
import { Lab } from '../../lab/net/lab.ts'
import { writeRates } from '../../lab/vm/rates.ts'
import { TrafficProcess } from '../../lab/vm/traffic-process.ts'
import { labScope, labTest } from './helpers.ts'

const test = await labTest('test/lab/interrupted-move.test.ts')
const PROBE = fileURLToPath(new URL('../../lab/drivers/lab-host/probe.ts', import.meta.url))

/** Does `address` echo a probe sent from namespace `ns` within `ms`? */
function reachable (ns: string, address: string, ms = 3_000): Promise<boolean> {
  return new Promise(resolve => {
    const child = spawn(tool('ip'), ['netns', 'exec', ns, process.execPath, '--disable-warning=ExperimentalWarning', PROBE, address, String(LAB_ECHO_PORT), '20'], { stdio: ['pipe', 'pipe', 'ignore'] })
    const timer = setTimeout(() => { child.kill('SIGKILL'); resolve(false) }, ms)
    createInterface({ input: child.stdout }).on('line', (line) => {
      if (line === 'ready') { clearTimeout(timer); child.kill('SIGKILL'); resolve(true) }
    })
  })
}

test('a move interrupted by a crash is finished or undone when the source\'s driver starts again', async t => {
  t.timeout(120_000)
  const { prefix, dir } = await labScope(t)
  const lab = new Lab({ prefix, dir })
  lab.addDc('dc0').addDc('dc1')
    .addHost('a0', 'dc0', { memoryMiB: 1024, vcpus: 2 })
    .addHost('b0', 'dc1', { memoryMiB: 1024, vcpus: 2 })
    .addLink('dc0', 'dc1', 2_000_000, { both: true })
  const state = await lab.start()
  const m = await lab.addVm({ id: 'm', host: 'a0', memoryMiB: 256, vcpus: 1 })
  const address = m.addresses[0]!
  const a0 = state.hosts.a0!
  const b0 = state.hosts.b0!
  const restartDriver = async (host: string): Promise<LabHypervisor> => {
    const d = new LabHypervisor({ host, address: state.hosts[host]!.address }, { dir })
    await d.start()
    return d
  }
  const where = async (): Promise<string[]> => {
    const out: string[] = []
    for (const h of ['a0', 'b0']) if ((await (await restartDriver(h)).list()).some(v => v.id === 'm')) out.push(h)
    return out
  }
  // The VM's traffic process answers the probe's echoes.
  const ratesFile = join(dir, 'rates.json')
  await writeRates(ratesFile, { version: 1, endpoints: { m: address }, flows: [] })
  const echo = new TrafficProcess({ ns: m.ns, id: 'm', ratesFile, statsFile: join(dir, 'm.stats.json'), logFile: join(dir, 'm.log') })
  t.teardown(async () => echo.stop())
  t.true(await reachable(b0.ns, address, 10_000), 'reachable before')

  // Killed after the vif moved, before it was wired at the target.
  await recordMove(dir, { vm: 'm', from: 'a0', to: 'b0', atMs: Date.now() })
  await removeShortcut(a0, m)
  await moveVif(a0, b0, m)
  t.false(await reachable(a0.ns, address, 1_500), 'unplugged in the target: unreachable')
  await restartDriver('a0')
  t.deepEqual(await where(), ['b0'], 'on the target only')
  t.true(await reachable(a0.ns, address), 'reachable from dc0 once the move is finished')
  t.true(await reachable(b0.ns, address), 'reachable from dc1 once the move is finished')
  t.deepEqual(await unfinishedMoves(dir, 'a0'), [], 'the record is gone')

  // Killed before the vif moved (the source had only unplugged its short-cut): undone.
  await recordMove(dir, { vm: 'm', from: 'b0', to: 'a0', atMs: Date.now() })
  await removeShortcut(b0, m)
  await restartDriver('b0')
  t.deepEqual(await where(), ['b0'], 'still on the source')
  t.true(await reachable(a0.ns, address), 'reachable from dc0 after the undo')
  t.deepEqual(await unfinishedMoves(dir, 'b0'), [])

  // A real move afterwards leaves no record behind.
  const src = await restartDriver('b0')
  const dst = await restartDriver('a0')
  const info = (await src.list()).find(v => v.id === 'm')!
  const r = await src.migrate('m', await dst.prepareIncoming(info), { deadlineMs: 10_000 })
  t.true(r.ok, r.error)
  t.deepEqual(await unfinishedMoves(dir, 'b0'), [])
  t.true(await reachable(b0.ns, address), 'reachable after a normal move')
})
