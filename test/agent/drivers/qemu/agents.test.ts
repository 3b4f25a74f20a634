/**
 * The host parts end to end: two hosts (network namespaces on a tbf 100
 * Mbit/s IPv6 veth), a small QEMU guest on each, and a REAL agent on each
 * (`heliotrope agent --config FILE`, its own process inside the host's
 * namespace) with the `qemu` hypervisor driver and the `file` collector.
 * The test plays the sFlow/IPFIX pipeline: it appends flow records between
 * the two guests to each host's file, so the WAN link looks busy and the
 * planner brings the two guests together. One guest must live-migrate; it
 * ends on the other host, gone from its own, and the source agent logs the
 * migration's metrics.
 */
import { appendFile, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { QemuDriver } from '../../../../agent/drivers/qemu/driver.ts'
import { buildTestGuest, testGuestConfig, waitForGuestReady } from '../../../../lab/vm/qemu-guest.ts'
import { stopDriversAndGuests, writeAgentFiles } from './agent-files.ts'
import { AgentProcess } from './agent-process.ts'
import { requires } from '../../../prerequisites.ts'
import { createLink } from '../../../../lab/net/veth-link.ts'

const labTest = await requires('test/agent/drivers/qemu/agents.test.ts', 'root', 'iproute2', 'qemu', 'kernel-image', 'busybox')

/** Short rounds: the move should come within a few of them. */
const ROUND_MS = 3_000
/** WAN capacity in the topology: the link's real rate. */
const LINK_BPS = 100e6
/** What the "exporter" reports each guest sending the other: 40% of the link each way. */
const FLOW_BPS = 40e6
const FEED_EVERY_MS = 500
const GUEST_BOOT_TIMEOUT_MS = 120_000
/** From agents started to a finished migration; agents start slowly on a busy machine. */
const MOVE_TIMEOUT_MS = 180_000
const GUEST_PREFIX = 'fd00:4854:77::'
/** Tries of the final list() on a busy machine. */
const LIST_ATTEMPTS = 10

labTest('real agents on two hosts move one QEMU guest to the other over the throttled link', async t => {
  t.timeout(330_000)
  const dir = await mkdtemp(join(tmpdir(), 'htagents-'))
  const link = await createLink({ tag: 'agents' }).catch(async err => { await rm(dir, { recursive: true, force: true }); throw err })
  const agents: AgentProcess[] = []
  const drivers: QemuDriver[] = []
  let feeder: ReturnType<typeof setInterval> | undefined
  t.teardown(async () => {
    if (feeder !== undefined) clearInterval(feeder)
    await Promise.all(agents.map(async a => { await a.stop() }))
    await stopDriversAndGuests(drivers)
    await link.destroy() // kills whatever still runs in the namespaces
    await rm(dir, { recursive: true, force: true })
  })

  const guest = await buildTestGuest(dir)
  const hosts = [
    { host: 'a', dc: 'A', net: link.a, vm: 'guest-a', vmAddress: `${GUEST_PREFIX}a` },
    { host: 'b', dc: 'B', net: link.b, vm: 'guest-b', vmAddress: `${GUEST_PREFIX}b` }
  ].map(h => ({ ...h, vmDir: join(dir, `vms-${h.host}`), flowFile: join(dir, `flows-${h.host}.jsonl`) }))

  // One guest per host, created by the test (the agents find them through list()).
  const bootStart = Date.now()
  await Promise.all(hosts.map(async h => {
    const d = new QemuDriver({ address: h.net.address }, { dir: h.vmDir, prefix: h.net.prefix })
    drivers.push(d)
    await d.start()
    await d.create(testGuestConfig(guest, { id: h.vm, addresses: [h.vmAddress] }))
    await waitForGuestReady(d.paths(h.vm).log, GUEST_BOOT_TIMEOUT_MS)
  }))
  t.log(`guests up after ${Date.now() - bootStart} ms`)
  // The agents own the monitors from here on.
  for (const d of drivers) await d.stop()

  const files = await writeAgentFiles({
    dir,
    cluster: 'htqemu',
    linkBps: LINK_BPS,
    roundPeriodMs: ROUND_MS,
    hosts: hosts.map(h => ({ host: h.host, dc: h.dc, address: h.net.address, vmDir: h.vmDir, flowFile: h.flowFile, capacity: { memoryMiB: 1024, vcpus: 4 } })),
    extra: {
      planner: { maxMoves: 1, maxMovesPerHost: 1, minGain: 0.01 },
      migrationDeadlineMs: 120_000,
      reservationTtlMs: 120_000,
      // One migration in flight in the cluster: while guest-a moves to b, the
      // next round must not send guest-b the other way.
      safety: { maxInFlight: 1 }
    }
  })

  // The exporter: each host's file gets every flow; an agent counts only what its own VMs send.
  for (const h of hosts) await writeFile(h.flowFile, '')
  const bytesPerFeed = Math.round(FLOW_BPS * FEED_EVERY_MS / 8000)
  const lines = hosts.flatMap(src => hosts.filter(d => d !== src).map(dst => JSON.stringify({ src: src.vmAddress, dst: dst.vmAddress, bytes: bytesPerFeed }) + '\n')).join('')
  feeder = setInterval(() => { for (const h of hosts) void appendFile(h.flowFile, lines).catch(() => undefined) }, FEED_EVERY_MS)

  const agentStart = Date.now()
  for (const [i, h] of hosts.entries()) agents.push(new AgentProcess(h.host, h.net.prefix, files[i]!.configPath, join(dir, `agent-${h.host}.log`)))
  await Promise.all(agents.map(async a => a.waitFor(r => r.msg === 'agent started', 90_000, 'start')))
  t.log(`agents started after ${Date.now() - agentStart} ms`)

  // The source is whichever host the plan moves a guest away from. An
  // attempt may fail (e.g. the target had not yet accepted the plan) and be
  // planned again a few rounds later: wait for one that succeeds.
  const done = await Promise.any(agents.map(async a => ({ agent: a, rec: await a.waitFor(r => r.msg === 'migrated', MOVE_TIMEOUT_MS, 'successful migration') })))
  clearInterval(feeder)
  feeder = undefined
  const { agent: source, rec } = done
  t.log(`${source.host} logged "migrated" ${Date.now() - agentStart} ms after the agents started`)
  // A round more, so a move planned meanwhile would show.
  await sleep(ROUND_MS * 2)
  const plans = agents.flatMap(a => a.records.filter(r => r.msg === 'planned' && Array.isArray(r.moves) && r.moves.length > 0))
  const outcomes = agents.flatMap(a => a.records.filter(r => r.msg === 'migrated' || r.msg === 'migration failed'))
  for (const p of plans) t.log(`round ${String(p.round)}: ${JSON.stringify(p.moves)} cost ${String(p.costBefore)} -> ${String(p.costAfter)} (${String(p.planner)})`)
  for (const o of outcomes) t.log(`${String(o.msg)}: ${String(o.vm)} ${String(o.from)} -> ${String(o.to)}${o.error !== undefined ? ` (${String(o.error)})` : ''}`)
  t.true(plans.length >= 1, 'a plan with a move was made')
  t.true(plans.every(p => (p.moves as unknown[]).length === 1), 'each plan moves one guest')
  t.is(outcomes.filter(o => o.msg === 'migrated').length, 1, 'one guest moved, once')

  const totalMs = Number(rec.totalMs)
  const downtimeMs = Number(rec.downtimeMs)
  const bytes = Number(rec.bytes)
  t.log(`migration ${String(rec.vm)} ${String(rec.from)} -> ${String(rec.to)}: totalMs ${totalMs}, downtimeMs ${downtimeMs}, bytes ${bytes} (${(bytes / 1e6).toFixed(1)} MB, ${(bytes * 8 / totalMs / 1e3).toFixed(1)} Mbit/s)`)
  t.true(totalMs > 0)
  t.true(downtimeMs >= 0)
  t.true(bytes > 1e6, 'the guest\'s memory went over the link')
  t.true(bytes * 8 / (totalMs / 1000) < LINK_BPS * 1.1, 'no faster than the throttled link')

  // Stop the agents (graceful), then ask the hypervisors: they are the truth.
  await Promise.all(agents.map(async a => { await a.stop() }))
  const from = hosts.find(h => h.host === rec.from)!
  const to = hosts.find(h => h.host === rec.to)!
  t.is(from.host, source.host)
  t.is(rec.vm, from.vm, 'the source moved its own guest')
  const fromDriver = drivers[hosts.indexOf(from)]!
  const toDriver = drivers[hosts.indexOf(to)]!
  for (const d of drivers) await d.start()
  const expected = [[from.vm, 'running'], [to.vm, 'running']].sort((x, y) => x[0]!.localeCompare(y[0]!))
  // list() leaves out a VM whose monitor does not answer within 2 s, which a
  // loaded machine can cause: ask again for a while before calling it gone.
  let there: string[][] = []
  for (let i = 0; i < LIST_ATTEMPTS; i++) {
    there = (await toDriver.list()).map(v => [v.id, v.status])
    if (JSON.stringify(there) === JSON.stringify(expected)) break
    t.log(`target list, attempt ${i + 1}: ${JSON.stringify(there)}`)
    await sleep(1_000)
  }
  t.deepEqual(there, expected, 'both guests run on the target')
  t.deepEqual(await fromDriver.list(), [], 'nothing left on the source')
  const moved = (await toDriver.list()).find(v => v.id === from.vm)
  t.deepEqual(moved?.addresses, [from.vmAddress])
})
