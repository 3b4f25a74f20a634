/**
 * A lab VM's live move keeps its address reachable: the lab driver, run
 * from inside the source host's namespace as an agent runs it, moves the
 * VM's vif to another DC, then within that DC, then back; after each move
 * the VM answers at its old address, its traffic process (and socket) is
 * the same one and keeps sending, and only the target lists it. The
 * measured downtime is printed.
 */
import { spawn } from 'node:child_process'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { LabHypervisor } from '../../lab/drivers/lab-host/driver.ts'
import { inNetns, tool } from '../../lab/drivers/lab-host/exec.ts'
import { LAB_ECHO_PORT } from '../../lab/drivers/lab-host/state.ts'
import type { MigrationResult } from '../../agent/drivers/types.ts'
import { Lab } from '../../lab/net/lab.ts'
import { namespacePids } from '../../lab/net/namespaces.ts'
import { writeRates } from '../../lab/vm/rates.ts'
import { TrafficProcess } from '../../lab/vm/traffic-process.ts'
import { labScope, labTest } from './helpers.ts'

const test = await labTest('test/lab/migration.test.ts')
const MIGRATE = fileURLToPath(new URL('./migrate-in-netns.ts', import.meta.url))
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

test('a migrated lab VM keeps its address, process and socket; downtime is measured', async t => {
  t.timeout(90_000)
  const { prefix, dir } = await labScope(t)
  const lab = new Lab({ prefix, dir })
  lab.addDc('dc0').addDc('dc1')
    .addHost('a0', 'dc0', { memoryMiB: 1024, vcpus: 2 })
    .addHost('b0', 'dc1', { memoryMiB: 1024, vcpus: 2 })
    .addHost('b1', 'dc1', { memoryMiB: 1024, vcpus: 2 })
    .addLink('dc0', 'dc1', 2_000_000, { both: true })
  await lab.start()
  const [m, peer] = await lab.addVms([{ id: 'm', host: 'a0', memoryMiB: 256, vcpus: 1 }, { id: 'peer', host: 'b1', memoryMiB: 256, vcpus: 1 }])
  const ratesFile = join(dir, 'rates.json')
  await writeRates(ratesFile, { version: 1, endpoints: { m: m!.addresses[0]!, peer: peer!.addresses[0]! }, flows: [{ src: 'm', dst: 'peer', bps: 500_000 }, { src: 'peer', dst: 'm', bps: 500_000 }] })
  const traffic = [m!, peer!].map(v => new TrafficProcess({ ns: v.ns, id: v.id, ratesFile, statsFile: join(dir, `${v.id}.stats.json`), logFile: join(dir, `${v.id}.log`) }))
  t.teardown(async () => { await Promise.all(traffic.map(async p => p.stop())) })
  await new Promise(resolve => setTimeout(resolve, 1_000))
  const processIds = async (): Promise<number[]> => (await namespacePids(m!.ns)).sort()
  const before = await processIds()
  t.true(before.length > 0, 'the VM runs a process')
  t.true(await reachable(lab.state.hosts.b1!.ns, m!.addresses[0]!), 'reachable before any move')

  // The first two moves as an agent makes them (from inside the source host); the last from outside
  // every lab namespace (this process), where the driver probes from a child process instead.
  const hops: Array<[string, string, string, boolean]> = [['a0', 'b0', 'to another DC', true], ['b0', 'b1', 'within the DC', true], ['b1', 'a0', 'back home, driven from outside', false]]
  for (const [from, to, what, inside] of hops) {
    const sentBefore = (await traffic[0]!.stats())?.sent[peer!.addresses[0]!]?.bytes ?? 0
    const result = inside ? await migrateFromInside(lab.state.hosts[from]!.ns, dir, from, to) : await migrateFromHere(dir, lab.state.hosts, from, to)
    t.log(`m ${from} -> ${to} (${what}): ${result.ok ? 'ok' : `failed: ${result.error}`}, total ${result.totalMs} ms, downtime ${result.downtimeMs ?? 'not measured'} ms`)
    t.true(result.ok, `${from} -> ${to}: ${result.error}`)
    t.is(typeof result.downtimeMs, 'number', 'downtime measured')
    const listed = async (host: string): Promise<string[]> => {
      const d = new LabHypervisor({ host, address: lab.state.hosts[host]!.address }, { dir })
      await d.start()
      return (await d.list()).map(v => v.id)
    }
    t.true((await listed(to)).includes('m'), `${to} lists m`)
    t.false((await listed(from)).includes('m'), `${from} no longer lists m`)
    // Reachable at the same address from a host in each DC.
    t.true(await reachable(lab.state.hosts.a0!.ns, m!.addresses[0]!), `reachable from dc0 after ${what}`)
    t.true(await reachable(lab.state.hosts.b1!.ns, m!.addresses[0]!), `reachable from dc1 after ${what}`)
    // The same process, still sending through the same socket.
    t.deepEqual(await processIds(), before, 'the VM\'s processes live on')
    await new Promise(resolve => setTimeout(resolve, 1_200))
    const sentAfter = (await traffic[0]!.stats())?.sent[peer!.addresses[0]!]?.bytes ?? 0
    t.true(sentAfter > sentBefore, `m keeps sending after ${what} (${sentBefore} -> ${sentAfter} B)`)
  }
})

async function migrateFromInside (ns: string, dir: string, from: string, to: string): Promise<MigrationResult> {
  const out = await inNetns(ns, [process.execPath, MIGRATE, dir, from, 'm', to], { timeoutMs: 30_000 })
  return JSON.parse(out.trim().split('\n').pop()!) as MigrationResult
}

async function migrateFromHere (dir: string, hosts: Record<string, { address: string }>, from: string, to: string): Promise<MigrationResult> {
  const source = new LabHypervisor({ host: from, address: hosts[from]!.address }, { dir })
  const target = new LabHypervisor({ host: to, address: hosts[to]!.address }, { dir })
  await source.start()
  await target.start()
  const info = (await source.list()).find(v => v.id === 'm')!
  return source.migrate('m', await target.prepareIncoming(info), { deadlineMs: 10_000 })
}
