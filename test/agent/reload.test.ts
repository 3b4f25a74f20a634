/**
 * Reloading a running agent's config (issue 18, "Reload"): one real agent
 * (the lab's sim drivers, libp2p on [::1], its API on a free port), started
 * as the daemon starts it, re-reads its file as SIGHUP makes it do
 * (Daemon.reload). A new local limit shapes its next plan; a bad file is
 * refused and the running config kept; a change that needs a restart is
 * named and not applied. One agent for the file, so the tests run serially
 * and compare counters before and after.
 */
import test from 'ava'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import type { StatusResponse } from '../../agent/api/types.ts'
import { readConfigFile } from '../../agent/config-file.ts'
import { startDaemon, type Daemon } from '../../agent/daemon.ts'
import { createLogger, type LevelCell } from '../../agent/log.ts'
import { generatePsk, loadOrCreatePeerKey } from '../../agent/net/keys.ts'
import { roundAt } from '../../lib/rounds.ts'
import type { Snapshot } from '../../lib/model.ts'
import { LAB_DRIVERS } from '../../lab/drivers/index.ts'
import { SimWorld } from '../../lab/drivers/sim-host/world.ts'
import { mesh, snapshot } from '../lib/fixtures.ts'

interface Line { level: string, msg: string, [k: string]: unknown }

let dir: string
let path: string
let base: Record<string, unknown>
let daemon: Daemon
const lines: Line[] = []
const level: LevelCell = { level: 'info' }

/**
 * What the agent plans against: h1 (DC A, full) holds v1..v3, each talking
 * at 100 Mbit/s each way to its partner w1..w3 on g1..g3 (DC B, room for
 * one more each). Every pair is mended by moving a v to its partner's host:
 * three moves out of h1, as many as the per-host limit lets out at once.
 */
function world (): Snapshot {
  const pairs = [1, 2, 3]
  return snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1e9),
    hosts: [{ id: 'h1', dc: 'A', memoryMiB: 3072, vcpus: 3 }, ...pairs.map(i => ({ id: `g${i}`, dc: 'B', memoryMiB: 2048, vcpus: 2 }))],
    vms: pairs.flatMap(i => [{ id: `v${i}`, host: 'h1', memoryMiB: 1024, vcpus: 1 }, { id: `w${i}`, host: `g${i}`, memoryMiB: 1024, vcpus: 1 }]),
    flows: pairs.flatMap(i => [{ src: `v${i}`, dst: `w${i}`, bps: 1e8 }, { src: `w${i}`, dst: `v${i}`, bps: 1e8 }])
  })
}

/** The moves the agent's next plan would make: the same call its round loop makes when it plans (agent/planning.ts). */
function nextPlanMoves (): string[] {
  const agent = daemon.agent
  return agent.controls.plan(world(), roundAt(Date.now(), agent.timing)).plan.moves.map(m => `${m.vm}:${m.from}->${m.to}`)
}

/** The start config with `over` on top (sections merged one level deep). */
async function writeConfig (over: Record<string, unknown> = {}): Promise<void> {
  const merged: Record<string, unknown> = { ...base }
  for (const [k, v] of Object.entries(over)) {
    const was = merged[k]
    merged[k] = typeof v === 'object' && v !== null && !Array.isArray(v) && typeof was === 'object' && was !== null ? { ...was, ...v } : v
  }
  await writeFile(path, JSON.stringify(merged, null, 2))
}

async function status (): Promise<StatusResponse> {
  const res = await fetch(`http://${daemon.api!.address}/status`)
  return await res.json() as StatusResponse
}

async function reloads (): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${daemon.api!.address}/metrics`)).text()
  const fam = parsePrometheusTextFormat(text).find(f => f.name === 'heliotrope_config_reloads_total')
  return Object.fromEntries((fam?.metrics ?? []).map(m => [m.labels?.result ?? '', Number(m.value)]))
}

const since = (n: number): Line[] => lines.slice(n)

test.before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'htreload-'))
  const key = await loadOrCreatePeerKey(join(dir, 'state'))
  await writeFile(join(dir, 'psk'), generatePsk(), { mode: 0o600 })
  await writeFile(join(dir, 'topology.json'), JSON.stringify({ dcs: [{ id: 'A' }, { id: 'B' }], links: [{ from: 'A', to: 'B', capacityBps: 1e9 }, { from: 'B', to: 'A', capacityBps: 1e9 }] }))
  await new SimWorld(join(dir, 'world')).init([{ id: 'vm1', host: 'h1', memoryMiB: 512, vcpus: 1, addresses: ['fd00::5'] }], { flows: [], prefixes: [] })
  base = {
    cluster: 'reload', host: 'h1', dc: 'A', stateDir: join(dir, 'state'), listen: ['/ip6/::1/tcp/0'], pskFile: join(dir, 'psk'),
    members: [{ host: 'h1', peerId: key.peerId }], topologyFile: join(dir, 'topology.json'), address: 'fd00::1',
    capacity: { memoryMiB: 4096, vcpus: 4 }, roundPeriodMs: 1000,
    // The planner lets h1 send out all three; the safety section's per-host limit decides.
    planner: { maxMovesPerHost: 5 },
    safety: { maxInFlightPerHost: 3 },
    api: { listen: '::1', port: 0 },
    collector: { kind: 'sim', world: join(dir, 'world') }, hypervisor: { kind: 'sim', world: join(dir, 'world') }
  }
  path = join(dir, 'config.json')
  await writeConfig()
  const log = createLogger({ level, pretty: false, sink: { write: l => { lines.push(JSON.parse(l) as Line) } } })
  daemon = await startDaemon(await readConfigFile(path, LAB_DRIVERS), { log, drivers: LAB_DRIVERS, logLevel: level })
})

test.after.always(async () => {
  await daemon?.stop()
  if (dir !== undefined) await rm(dir, { recursive: true, force: true })
})

test.serial('a reload applies a new per-host limit: the agent\'s next plan keeps to it, /status and /metrics show it', async t => {
  t.deepEqual(nextPlanMoves(), ['v1:h1->g1', 'v2:h1->g2', 'v3:h1->g3'], 'under the start limit (3), all three leave h1')
  t.is((await status()).limits?.safety.maxInFlightPerHost, 3)
  const before = await reloads()
  const mark = lines.length

  await writeConfig({ safety: { maxInFlightPerHost: 1 } })
  const report = await daemon.reload(path)

  t.is(report.result, 'applied')
  t.deepEqual(report.applied.map(f => f.field), ['safety.maxInFlightPerHost'])
  t.deepEqual(report.restartNeeded, [])
  t.deepEqual(nextPlanMoves(), ['v1:h1->g1'], 'the next plan lets one migration out of h1')
  t.is(daemon.agent.config.safety.maxInFlightPerHost, 1)
  t.is((await status()).limits?.safety.maxInFlightPerHost, 1)
  t.is((await reloads()).applied, (before.applied ?? 0) + 1)
  t.like(since(mark).find(l => l.msg === 'config reloaded'), { level: 'info', component: 'config', result: 'applied', applied: ['safety.maxInFlightPerHost'] })
})

test.serial('a bad config on reload is refused at error level with the reason; the running config and limit are kept; each refusal is counted', async t => {
  await writeConfig({ safety: { maxInFlightPerHost: 2 } })
  t.is((await daemon.reload(path)).result, 'applied')
  const kept = daemon.agent.config
  const moves = nextPlanMoves()
  t.is(moves.length, 2)
  const bad: Array<[string, () => Promise<void>, RegExp]> = [
    ['not JSON', async () => { await writeFile(path, '{ "cluster": "reload", ') }, /is not valid JSON/],
    ['a field out of range', async () => { await writeConfig({ safety: { maxInFlightPerHost: 0 } }) }, /safety\.maxInFlightPerHost: expected .*found 0/],
    ['an unknown field', async () => { await writeConfig({ safety: { maxInFlightPerHots: 1 } }) }, /safety\.maxInFlightPerHots/],
    ['a topology file that is not there', async () => { await writeConfig({ safety: { maxInFlightPerHost: 1 }, topologyFile: join(dir, 'nope.json') }) }, /cannot read the topology file/],
    ['no file', async () => { await rm(path) }, /cannot read/]
  ]
  for (const [what, make, reason] of bad) {
    const before = await reloads()
    const mark = lines.length
    await make()
    const report = await daemon.reload(path)
    t.is(report.result, 'refused', what)
    t.regex(report.reason ?? '', reason, what)
    t.deepEqual(report.applied, [], what)
    t.is(daemon.agent.config, kept, `${what}: the running config is the same object`)
    t.deepEqual(nextPlanMoves(), moves, `${what}: the next plan keeps to the running limit`)
    t.is((await status()).limits?.safety.maxInFlightPerHost, 2, what)
    const after = await reloads()
    t.is(after.refused, (before.refused ?? 0) + 1, what)
    t.is(after.applied, before.applied, what)
    const logged = since(mark).filter(l => l.msg === 'config reload refused; the running config is kept')
    t.is(logged.length, 1, what)
    t.like(logged[0], { level: 'error', component: 'config' }, what)
    t.regex(String(logged[0]!.reason), reason, what)
  }
})

test.serial('a change that needs a restart is named at warn and not applied; the live change beside it is; a new log level applies', async t => {
  const before = await reloads()
  const mark = lines.length
  t.is(daemon.agent.mode, 'observe')
  await writeConfig({ mode: 'auto', capacity: { memoryMiB: 8192 }, safety: { maxInFlightPerHost: 3, cooldownRounds: 9 }, logLevel: 'warn' })
  const report = await daemon.reload(path)

  t.is(report.result, 'restart-needed')
  t.deepEqual(report.restartNeeded.map(f => f.field), ['capacity.memoryMiB', 'mode'])
  t.deepEqual(report.applied.map(f => f.field), ['logLevel', 'safety.cooldownRounds', 'safety.maxInFlightPerHost'])
  t.is(daemon.agent.mode, 'observe', 'the mode waits for a restart')
  t.is(daemon.agent.config.capacity.memoryMiB, 4096)
  t.is(daemon.agent.config.mode, 'observe', 'the running config shows the value in effect')
  t.is(nextPlanMoves().length, 3, 'the live limit beside them applied')
  t.is((await status()).limits?.safety.cooldownRounds, 9)
  t.is((await reloads())['restart-needed'], (before['restart-needed'] ?? 0) + 1)
  const warned = since(mark).filter(l => l.level === 'warn' && l.msg === 'config reload: this change needs a restart; the running value is kept')
  t.deepEqual(warned.map(l => l.field), ['capacity.memoryMiB', 'mode'])
  t.like(warned[1], { running: 'observe', file: 'auto' })
  t.true(warned.every(l => typeof l.why === 'string' && l.why !== ''))

  // The level is now warn: info lines stop, warnings still come.
  t.is(level.level, 'warn')
  const quiet = lines.length
  daemon.agent.controls.roundStarted(roundAt(Date.now(), daemon.agent.timing) + 100)
  t.false(since(quiet).some(l => l.level === 'info'), 'no info line at level warn')
  await writeConfig({ mode: 'auto', capacity: { memoryMiB: 8192 }, safety: { maxInFlightPerHost: 3, cooldownRounds: 9 }, logLevel: 'info' })
  t.is((await daemon.reload(path)).result, 'restart-needed', 'the restart fields still differ from the running ones')
  t.is(level.level, 'info')
})

test.serial('a topology file with new bytes is staged (not a restart) and switches; one that does not parse is refused with the running one kept; the running bytes withdraw a staged one', async t => {
  const agent = daemon.agent
  const running = agent.topology.hash
  const v2 = join(dir, 'topology-v2.json')
  await writeFile(v2, JSON.stringify({ dcs: [{ id: 'A' }, { id: 'B' }], links: [{ from: 'A', to: 'B', capacityBps: 5e8 }, { from: 'B', to: 'A', capacityBps: 5e8 }] }))
  const bad = join(dir, 'topology-bad.json')
  await writeFile(bad, JSON.stringify({ dcs: [{ id: 'A' }], links: [{ from: 'A', to: 'Z', capacityBps: 1e9 }] }))

  // A topology that does not parse: refused like any bad file, nothing staged.
  const before = await reloads()
  await writeConfig({ topologyFile: bad })
  const refused = await daemon.reload(path)
  t.is(refused.result, 'refused')
  t.regex(refused.reason ?? '', /topology/)
  t.is(agent.topology.hash, running)
  t.is(agent.topology.staged, undefined)
  t.is((await reloads()).refused, (before.refused ?? 0) + 1)
  // A valid topology without this host's DC: refused too (at the switch the host would leave every snapshot).
  const elsewhere = join(dir, 'topology-elsewhere.json')
  await writeFile(elsewhere, JSON.stringify({ dcs: [{ id: 'B' }], links: [] }))
  await writeConfig({ topologyFile: elsewhere })
  const noDc = await daemon.reload(path)
  t.is(noDc.result, 'refused')
  t.regex(noDc.reason ?? '', /has no DC "A"/)
  t.is(agent.topology.staged, undefined)

  // A valid new one is staged; the running bytes again withdraw it.
  await writeConfig({ topologyFile: v2 })
  const staged = await daemon.reload(path)
  t.is(staged.result, 'staged', JSON.stringify(staged))
  t.like(staged.topology, { result: 'staged', running })
  t.is(agent.topology.hash, running, 'the running topology stays')
  t.like((await status()).topology?.staged, { hash: staged.topology!.staged!, missing: [] })
  await writeConfig()
  const withdrawn = await daemon.reload(path)
  t.like(withdrawn, { result: 'applied', topology: { result: 'withdrawn', running } })
  t.is(agent.topology.staged, undefined)

  // Staged again: alone in its cluster, the agent switches two rounds after staging, and says so.
  const mark = lines.length
  await writeConfig({ topologyFile: v2 })
  t.is((await daemon.reload(path)).result, 'staged')
  const round = agent.topology.staged!.round
  const end = Date.now() + 30_000
  while (agent.topology.hash === running && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 100))
  t.is(agent.topology.hash, staged.topology!.staged!)
  t.like(since(mark).find(l => l.msg === 'topology switched'), { level: 'info', component: 'topology', from: running, to: staged.topology!.staged!, round: round + 2 })
  t.is(agent.config.topologyFile, v2, 'the config in effect names the new file')
  t.like((await status()).topology, { hash: staged.topology!.staged! })
  t.is((await status()).topology?.staged, undefined)
})
