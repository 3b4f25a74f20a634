/**
 * SIGTERM to the source agent mid-migration, with REAL agents on two hosts
 * (network namespaces on a tbf IPv6 veth) and the `qemu` driver: the
 * migration, capped at 1 MiB/s so it cannot finish within the agent's 5 s
 * grace, is cancelled through the source's monitor; the agent logs where
 * the guest runs and exits by itself; QEMU says cancelled and running; the
 * guest's heartbeat goes on in the source's serial log and no copy runs on
 * the target. Set up as agents.test.ts.
 *
 * And kill -9 of the source agent mid-migration: the migration goes on
 * with nobody watching and completes, the arrived copy waits paused (it
 * must not run beside a source that could resume), and the restarted agent
 * hands it over: the guest runs on the target only.
 */
import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import type { ExecutionContext } from 'ava'
import { setTimeout as sleep } from 'node:timers/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { vmPaths } from '../../../../agent/drivers/qemu/config.ts'
import { QemuDriver } from '../../../../agent/drivers/qemu/driver.ts'
import { QmpClient } from '../../../../agent/drivers/qemu/qmp.ts'
import { buildTestGuest, lastTick, testGuestConfig, waitForGuestReady, waitForTick } from '../../../../lab/vm/qemu-guest.ts'
import { createLink } from '../../../../lab/net/veth-link.ts'
import { requires } from '../../../prerequisites.ts'
import { stopDriversAndGuests, writeAgentFiles, type AgentFiles } from './agent-files.ts'
import { AgentProcess, type LogRecord } from './agent-process.ts'

const labTest = await requires('test/agent/drivers/qemu/agent-stop.test.ts', 'root', 'iproute2', 'qemu', 'kernel-image', 'busybox')

const ROUND_MS = 3_000
const LINK_BPS = 100e6
const FLOW_BPS = 40e6
const FEED_EVERY_MS = 500
/** Generous throughout: two cores shared with other TCG guests and test runs. */
const GUEST_BOOT_TIMEOUT_MS = 120_000
const MOVE_TIMEOUT_MS = 180_000
/** The agent's 5 s grace, the cancel and its confirmation, the leave: far less, but the machine may be busy. */
const EXIT_TIMEOUT_MS = 60_000
const TICK_TIMEOUT_MS = 60_000
const GUEST_PREFIX = 'fd00:4854:78::'


interface Host { host: string, dc: string, net: { address: string, prefix: string[] }, vm: string, vmAddress: string, vmDir: string, flowFile: string }
interface Moving { dir: string, hosts: Host[], agents: AgentProcess[], drivers: QemuDriver[], files: AgentFiles[], source: AgentProcess, rec: LogRecord, from: Host, to: Host }

/**
 * Two agents, each host running one guest, traffic fed between the guests
 * until one agent starts migrating its guest to the other host (capped at
 * `bytesPerSec`); everything is torn down after the test.
 */
async function untilMigrating (t: ExecutionContext, tag: string, bytesPerSec: number): Promise<Moving> {
  const dir = await mkdtemp(join(tmpdir(), `ht${tag}-`))
  const link = await createLink({ tag }).catch(async err => { await rm(dir, { recursive: true, force: true }); throw err })
  const agents: AgentProcess[] = []
  const drivers: QemuDriver[] = []
  let feeder: ReturnType<typeof setInterval> | undefined
  t.teardown(async () => {
    if (feeder !== undefined) clearInterval(feeder)
    await Promise.all(agents.map(async a => { await a.stop() }))
    await stopDriversAndGuests(drivers)
    await link.destroy()
    await rm(dir, { recursive: true, force: true })
  })

  const guest = await buildTestGuest(dir)
  const hosts: Host[] = [
    { host: 'a', dc: 'A', net: link.a, vm: 'guest-a', vmAddress: `${GUEST_PREFIX}a` },
    { host: 'b', dc: 'B', net: link.b, vm: 'guest-b', vmAddress: `${GUEST_PREFIX}b` }
  ].map(h => ({ ...h, vmDir: join(dir, `vms-${h.host}`), flowFile: join(dir, `flows-${h.host}.jsonl`) }))
  await Promise.all(hosts.map(async h => {
    const d = new QemuDriver({ address: h.net.address }, { dir: h.vmDir, prefix: h.net.prefix })
    drivers.push(d)
    await d.start()
    await d.create(testGuestConfig(guest, { id: h.vm, addresses: [h.vmAddress], heartbeat: true }))
    await waitForGuestReady(d.paths(h.vm).log, GUEST_BOOT_TIMEOUT_MS)
  }))
  for (const d of drivers) await d.stop() // the agents own the monitors from here on

  const files = await writeAgentFiles({
    dir,
    cluster: `ht${tag}`,
    linkBps: LINK_BPS,
    roundPeriodMs: ROUND_MS,
    hosts: hosts.map(h => ({ host: h.host, dc: h.dc, address: h.net.address, vmDir: h.vmDir, flowFile: h.flowFile, capacity: { memoryMiB: 1024, vcpus: 4 } })),
    qemuMigration: { maxBandwidthBytesPerSec: bytesPerSec },
    extra: {
      planner: { maxMoves: 1, maxMovesPerHost: 1, minGain: 0.01 },
      migrationDeadlineMs: 300_000,
      reservationTtlMs: 300_000,
      safety: { maxInFlight: 1 }
    }
  })
  for (const h of hosts) await writeFile(h.flowFile, '')
  const bytesPerFeed = Math.round(FLOW_BPS * FEED_EVERY_MS / 8000)
  const lines = hosts.flatMap(src => hosts.filter(d => d !== src).map(dst => JSON.stringify({ src: src.vmAddress, dst: dst.vmAddress, bytes: bytesPerFeed }) + '\n')).join('')
  feeder = setInterval(() => { for (const h of hosts) void appendFile(h.flowFile, lines).catch(() => undefined) }, FEED_EVERY_MS)

  for (const [i, h] of hosts.entries()) agents.push(new AgentProcess(h.host, h.net.prefix, files[i]!.configPath, join(dir, `agent-${h.host}.log`)))
  await Promise.all(agents.map(async a => a.waitFor(r => r.msg === 'agent started', 90_000, 'start')))
  const { agent: source, rec } = await Promise.any(agents.map(async a => ({ agent: a, rec: await a.waitFor(r => r.msg === 'migrating', MOVE_TIMEOUT_MS, 'a migration') })))
  clearInterval(feeder)
  feeder = undefined
  const from = hosts.find(h => h.host === source.host)!
  const to = hosts.find(h => h.host === rec.to)!
  t.is(rec.vm, from.vm)
  return { dir, hosts, agents, drivers, files, source, rec, from, to }
}

/** Polls the incoming copy of `vm` in `vmDir` until its QEMU says the migration is under way (or it ended); its last status. */
async function untilArriving (vmDir: string, vm: string, timeoutMs: number): Promise<string> {
  const deadline = Date.now() + timeoutMs
  let state = await qemuState(vmDir, vm)
  while (!['active', 'completed', 'failed'].includes(state.migration) && Date.now() < deadline) {
    await sleep(200)
    state = await qemuState(vmDir, vm)
  }
  return state.migration
}

/** What QEMU itself says of `vm` in `vmDir` ('none': no QEMU answers for it there). */
async function qemuState (vmDir: string, vm: string): Promise<{ run: string, migration: string }> {
  const qmp = await QmpClient.connect(vmPaths(vmDir, vm).qmp, { timeoutMs: 10_000 }).catch(() => undefined)
  if (qmp === undefined) return { run: 'none', migration: 'none' }
  try {
    return {
      run: (await qmp.execute<{ status: string }>('query-status')).status,
      migration: (await qmp.execute<{ status?: string }>('query-migrate')).status ?? 'none'
    }
  } finally {
    qmp.close()
  }
}

labTest('SIGTERM to the source agent mid-migration: cancelled on the live monitor, the guest runs on the source only and ticks on', async t => {
  t.timeout(480_000)
  // 1 MiB/s: tens of MB take far longer than the 5 s grace.
  const { hosts, agents, drivers, source, from, to } = await untilMigrating(t, 'agstop', 2 ** 20)
  t.log(`${from.host} migrating ${from.vm} to ${to.host}; SIGTERM`)
  const stopStarted = Date.now()
  t.true(await source.stop(EXIT_TIMEOUT_MS), 'the source agent exited by itself')
  t.log(`source agent exited ${Date.now() - stopStarted} ms after SIGTERM`)
  const failed = source.records.find(r => r.msg === 'migration failed' && r.vm === from.vm)
  t.log(`its record: ${JSON.stringify(failed)}`)
  t.regex(String(failed?.error), /agent is stopping: migration cancelled/)
  t.is(failed?.runsOn, from.host, 'the agent says where the guest runs')
  t.false(source.records.some(r => r.msg === 'migrated'), 'nothing migrated')
  // The target hears the cancel (or its reservation expires); then it stops too.
  const target = agents.find(a => a !== source)!
  await target.waitFor(r => r.msg === 'reservation released' && r.vm === from.vm, EXIT_TIMEOUT_MS, 'the reservation released')
  t.true(await target.stop(EXIT_TIMEOUT_MS))

  // QEMU itself, once the agents are gone: cancelled, running.
  const qmp = await QmpClient.connect(vmPaths(from.vmDir, from.vm).qmp, { timeoutMs: 10_000 })
  try {
    t.is((await qmp.execute<{ status?: string }>('query-migrate')).status, 'cancelled')
    t.is((await qmp.execute<{ status: string }>('query-status')).status, 'running')
  } finally {
    qmp.close()
  }
  const log = vmPaths(from.vmDir, from.vm).log
  const before = await lastTick(log)
  t.log(`heartbeat ${await waitForTick(log, before, TICK_TIMEOUT_MS)} after ${before} on ${from.host}`)
  // Exactly one copy: each host runs its own guest, and only that.
  const [fromDriver, toDriver] = [drivers[hosts.indexOf(from)]!, drivers[hosts.indexOf(to)]!]
  for (const d of drivers) await d.start()
  t.deepEqual((await fromDriver.list()).map(v => [v.id, v.status]), [[from.vm, 'running']])
  t.deepEqual((await toDriver.list()).map(v => [v.id, v.status]), [[to.vm, 'running']])
  t.is(await lastTick(vmPaths(to.vmDir, from.vm).log), 0, 'no heartbeat of the moved guest on the target')
})

labTest('kill -9 of the source agent mid-migration: the arrived copy waits paused, the restarted agent hands it over, the guest runs on the target only', async t => {
  t.timeout(480_000)
  // 8 MiB/s: the ~70 MB copy takes about 9 s, and the kill lands as soon as
  // the target's QEMU says the copy is arriving, so well before it ends; it
  // then completes with the agent dead. Not slower: after a copy of 30 s or
  // more at 2 MiB/s, QEMU 7.2's TCG guest sometimes hung on the target
  // (vCPU spinning at one RIP with interrupts off, nothing on the serial
  // console), with no agent involved (the driver alone, scratch runs: 2 of
  // about 17 such copies; none in 20 at 64 MiB/s).
  const m = await untilMigrating(t, 'agkill', 8 * 2 ** 20)
  const { from, to } = m
  // The agent logs 'migrating' before it tells its QEMU to migrate: a kill
  // then left no migration at all (seen in CI). Kill once the copy arrives,
  // as the target's QEMU says (the source's monitor is the agent's).
  const arriving = await untilArriving(to.vmDir, from.vm, MOVE_TIMEOUT_MS)
  t.is(arriving, 'active', 'the copy is arriving on the target before the kill')
  await m.source.kill()
  t.log(`${from.host} was migrating ${from.vm} to ${to.host}; killed -9`)
  // Nobody watches the migration now; QEMU carries it to the end.
  const deadline = Date.now() + MOVE_TIMEOUT_MS
  let source = await qemuState(from.vmDir, from.vm)
  // QEMU says 'completed' a moment before its run state leaves finish-migrate (seen here): wait for both.
  while ((source.migration !== 'completed' || source.run === 'finish-migrate') && Date.now() < deadline) {
    await sleep(500)
    source = await qemuState(from.vmDir, from.vm)
  }
  t.deepEqual(source, { run: 'postmigrate', migration: 'completed' }, 'the migration completed with its agent dead')
  // The arrived copy must not run before the hand-over: were the source
  // resumed (as after a cancel), two copies would run.
  t.is((await qemuState(to.vmDir, from.vm)).run, 'paused', 'the target copy waits paused')

  const restarted = new AgentProcess(from.host, from.net.prefix, m.files[m.hosts.indexOf(from)]!.configPath, join(m.dir, `agent-${from.host}-2.log`))
  m.agents.push(restarted)
  const settled = await restarted.waitFor(r => r.msg === 'settled a migration left from before a restart', MOVE_TIMEOUT_MS, 'the migration settled')
  t.log(JSON.stringify(settled))
  t.like(settled, { vm: from.vm, to: to.host, runsOn: 'target' })
  t.is((await qemuState(to.vmDir, from.vm)).run, 'running', 'started on the target')
  t.is((await qemuState(from.vmDir, from.vm)).run, 'none', 'gone from the source')
  const log = vmPaths(to.vmDir, from.vm).log
  const tick = await waitForTick(log, 0, TICK_TIMEOUT_MS).catch(async (err: unknown) => {
    // Seen once in CI (QMP said running): say what the guest was doing, for the next one to read.
    t.log(`no heartbeat on ${to.host}: ${JSON.stringify(await qemuState(to.vmDir, from.vm))}; CPU: ${await cpuSummary(to.vmDir, from.vm)}`)
    t.log(`serial log ends: ${JSON.stringify((await readFile(log, 'utf8').catch(() => '')).slice(-400))}`)
    throw err
  })
  t.log(`heartbeat ${tick} on ${to.host}`)
})

/** The guest CPU's instruction pointer and halted flag, twice a second apart (does it execute at all?). */
async function cpuSummary (vmDir: string, vm: string): Promise<string> {
  const qmp = await QmpClient.connect(vmPaths(vmDir, vm).qmp, { timeoutMs: 10_000 }).catch(() => undefined)
  if (qmp === undefined) return 'no monitor'
  try {
    const sample = async (): Promise<string> => {
      const regs = await qmp.execute<string>('human-monitor-command', { 'command-line': 'info registers' })
      return regs.split('\n').filter(l => /^(RIP|EFL|CR0)=/.test(l) || l.includes('HLT')).join(' ').replace(/\s+/g, ' ')
    }
    const first = await sample()
    await sleep(1000)
    return `${first} | 1 s later: ${await sample()}`
  } catch (err) {
    return `info registers failed: ${(err as Error).message}`
  } finally {
    qmp.close()
  }
}
