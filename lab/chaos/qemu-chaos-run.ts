/**
 * Chaos with real QEMU guests: 4 host namespaces in 2 DCs (the lab's
 * router between them), 6 busybox TCG guests, and a real agent per host
 * with the `qemu` driver, the `file` collector and mode auto. The run plays
 * the flow exporter: every half second each host's flow file gets the
 * current phase's flows, every guest talking to the clients of one DC, and
 * the sun moves to the other DC every few rounds, so guests keep moving.
 * Each guest rewrites a small buffer (the test guest's dirty workload), so
 * a migration takes long enough for a kill to land inside it.
 *
 * Faults, one at a time in a cycle: kill -9 a migration's source agent
 * while the migration runs (then, with the monitor free, QEMU says whether
 * the migration was still active), kill -9 a random agent, cut the WAN
 * between the DCs at the router. Killed agents start again after the hold.
 * After every round: where every guest runs by QEMU's own query-status on
 * every host (qemu-truth.ts), what each agent did (its log, round-book.ts),
 * and lib/invariants.ts; split rounds (two plans acted on) are counted too.
 */
import { appendFile, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { vmPaths } from '../../agent/drivers/qemu/config.ts'
import { QemuDriver } from '../../agent/drivers/qemu/driver.ts'
import { killQemu } from '../../agent/drivers/qemu/process.ts'
import { QmpClient } from '../../agent/drivers/qemu/qmp.ts'
import { checkInvariants, splitRounds, type AgentRound, type Violation } from '../../lib/invariants.ts'
import { Random } from '../../lib/random.ts'
import { defaultTiming, roundAt, roundStartMs } from '../../lib/rounds.ts'
import { DEFAULT_LAB_PREFIX, defaultLabDir } from '../net/names.ts'
import { Lab } from '../net/lab.ts'
import { AgentProcess } from '../run/agents.ts'
import { AGENTS_READY_TIMEOUT_MS } from '../run/runner.ts'
import { sleep } from '../run/scenario-events.ts'
import { buildTestGuest, DEFAULT_GUEST_MEMORY_MIB, testGuestConfig, waitForGuestReady } from '../vm/qemu-guest.ts'
import { writeQemuAgentFiles } from './qemu-agent-files.ts'
import { readQemuTruth, type QemuHostDir } from './qemu-truth.ts'
import { LogTail, RoundBook } from './round-book.ts'

export const QEMU_FAULT_KINDS = ['kill-source', 'wan-down', 'kill'] as const
export type QemuFaultKind = typeof QEMU_FAULT_KINDS[number]

/** Rounds long enough for a 96 MiB TCG guest to cross a 100 Mbit/s link on a loaded machine. */
export const QEMU_ROUND_MS = 6_000
// 96 MiB: the test guest's default; at 64 MiB the kernel never finishes booting.
const GUEST_MIB = DEFAULT_GUEST_MEMORY_MIB
/** Four guests fit a host: capacity is a real limit the planner must respect. */
const HOST_CAPACITY = { memoryMiB: 4 * GUEST_MIB, vcpus: 4 }
const LINK_BPS = 100e6
// Six guests at this rate overload the 100 Mbit/s WAN: a move toward the sun pays.
const FLOW_BPS = 60e6
/** A memory-writing workload per guest: migrations last seconds, not a blink. */
const DIRTY = { sizeMiB: 16, rateMiBps: 2 }
const FEED_EVERY_MS = 500
const GUEST_BOOT_TIMEOUT_MS = 240_000
const CHECK_AT = 0.75
const HOLD_ROUNDS = 2
const GAP_ROUNDS = 1
/**
 * A hand-over waits for its source's agent: dead for HOLD_ROUNDS, then a
 * round to start again and settle. Longer is a failure.
 */
export const MAX_HAND_OVER_WAIT_ROUNDS = HOLD_ROUNDS + 2

/** Hand-over waits that ran too long or never ended: what makes a run fail besides the invariants. */
export function overlongHandOvers (r: Pick<QemuChaosReport, 'handOverWaits'>): string[] {
  return r.handOverWaits.filter(w => w.open || w.rounds > MAX_HAND_OVER_WAIT_ROUNDS).map(w => `${w.vm}: ${w.rounds} rounds${w.open ? ', still waiting at the end' : ''}`)
}
/** Rounds between traffic pairings. */
const PHASE_ROUNDS = 4
/** How long kill-source waits for a migration to start, in rounds. */
const MIGRATION_WAIT_ROUNDS = 8
// Migrations of an idle guest take a second or two here: the kill lands early in one.
const MAX_KILL_DELAY_MS = 300
const GUEST_PREFIX = 'fd00:4854:99::'

const HOSTS = [
  { host: 'a1', dc: 'A' }, { host: 'a2', dc: 'A' }, { host: 'b1', dc: 'B' }, { host: 'b2', dc: 'B' }
]
/** Six guests, uneven: a1 and b1 hold two each. */
const GUESTS = [['g1', 'a1'], ['g2', 'a1'], ['g3', 'a2'], ['g4', 'b1'], ['g5', 'b1'], ['g6', 'b2']] as const
/** Each DC's clients (the agents' topology places these prefixes there); the phases alternate between them. */
export const CLIENT_PREFIXES: Record<string, string> = { A: 'fd00:4854:a::/64', B: 'fd00:4854:b::/64' }
const PHASES = ['A', 'B'] as const
const clientOf = (dc: string): string => CLIENT_PREFIXES[dc]!.replace('/64', '1')

export interface QemuChaosOptions {
  rounds: number
  seed?: number
  prefix?: string
  dir?: string
  print?: (line: string) => void
  signal?: AbortSignal
}

export interface QemuChaosReport {
  rounds: number
  guests: number
  faults: Record<QemuFaultKind, number>
  skipped: Record<QemuFaultKind, number>
  restarts: number
  /** kill-source kills whose migration QEMU still reported active right after the kill. */
  killsMidMigration: number
  /** From the agents' logs: 'migrating', 'migrated', 'migration failed' (cancelled: its error says so). A killed source logs no outcome. */
  migrations: { started: number, done: number, failed: number, cancelled: number }
  /** Guests QEMU showed running on another host than at the previous round's read: moves that happened, logged or not. */
  movesSeen: number
  violations: Violation[]
  /** Each hand-over wait seen (a guest running nowhere, held paused on its target for its dead source agent): the guest and the rounds it lasted; `open` when the run ended first. */
  handOverWaits: Array<{ vm: string, rounds: number, open: boolean }>
  splitRounds: number[]
  /** Truth reads that re-read a guest first seen on no host or on two. */
  rereads: number
  log: string[]
  crashes: string[]
  ranSec: number
}

export async function runQemuChaos (opts: QemuChaosOptions): Promise<QemuChaosReport> {
  const prefix = opts.prefix ?? DEFAULT_LAB_PREFIX
  const dir = opts.dir ?? defaultLabDir(prefix)
  const print = opts.print ?? (() => {})
  const rng = new Random(opts.seed ?? 1)
  const timing = defaultTiming(QEMU_ROUND_MS)
  const t0 = Date.now()
  const at = (): string => `[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)}s]`
  const log: string[] = []
  const note = (line: string): void => { log.push(`${at()} ${line}`); print(`${at()} ${line}`) }

  const lab = new Lab({ prefix, dir }).addDc('A').addDc('B')
  for (const h of HOSTS) lab.addHost(h.host, h.dc, HOST_CAPACITY)
  lab.addLink('A', 'B', LINK_BPS, { both: true })
  const agents = new Map<string, AgentProcess>()
  const hostDirs: QemuHostDir[] = HOSTS.map(h => ({ host: h.host, dir: join(dir, 'vms', h.host) }))
  const crashes: string[] = []
  let feeder: NodeJS.Timeout | undefined
  const close = async (): Promise<void> => {
    if (feeder !== undefined) clearInterval(feeder)
    await Promise.all([...agents.values()].map(async a => a.stop()))
    for (const a of agents.values()) a.close()
    for (const h of hostDirs) {
      const names = await readdir(h.dir).catch(() => [] as string[])
      await Promise.all(names.filter(n => n.endsWith('.pid')).map(async n => { await killQemu(vmPaths(h.dir, n.slice(0, -4))).catch(() => undefined) }))
    }
    await lab.stop()
  }

  try {
    await mkdir(join(dir, 'logs'), { recursive: true })
    const state = await lab.start()
    note(`lab ${prefix}: 2 DCs, ${HOSTS.length} hosts; state in ${dir}`)
    const guest = await buildTestGuest(dir)
    const address = (g: string): string => `${GUEST_PREFIX}${g.slice(1)}`
    // The guests, created by the run (the agents find them through list()).
    await Promise.all(HOSTS.map(async (h, i) => {
      const d = new QemuDriver({ address: state.hosts[h.host]!.address }, { dir: hostDirs[i]!.dir, prefix: ['ip', 'netns', 'exec', state.hosts[h.host]!.ns] })
      await d.start()
      for (const [g] of GUESTS.filter(([, on]) => on === h.host)) await d.create(testGuestConfig(guest, { id: g, memoryMiB: GUEST_MIB, addresses: [address(g)], dirty: DIRTY }))
      for (const [g] of GUESTS.filter(([, on]) => on === h.host)) await waitForGuestReady(d.paths(g).log, GUEST_BOOT_TIMEOUT_MS)
      await d.stop() // the agents own the monitors from here on
    }))
    note(`${GUESTS.length} guests booted (${GUEST_MIB} MiB, TCG)`)

    const specs = await writeQemuAgentFiles({
      dir, state, roundPeriodMs: QEMU_ROUND_MS, linkBps: LINK_BPS, capacity: HOST_CAPACITY, clientPrefixes: CLIENT_PREFIXES,
      hosts: HOSTS.map((h, i) => ({ ...h, vmDir: hostDirs[i]!.dir, flowFile: join(dir, `flows-${h.host}.jsonl`) }))
    })
    let phase = 0
    const bytesPerFeed = Math.round(FLOW_BPS * FEED_EVERY_MS / 8000)
    const feed = (): void => {
      const client = clientOf(PHASES[phase]!)
      const lines = GUESTS.flatMap(([g]) => [[address(g), client], [client, address(g)]]).map(([src, dst]) => JSON.stringify({ src, dst, bytes: bytesPerFeed }) + '\n').join('')
      for (const h of HOSTS) void appendFile(join(dir, `flows-${h.host}.jsonl`), lines).catch(() => undefined)
    }
    for (const h of HOSTS) await writeFile(join(dir, `flows-${h.host}.jsonl`), '')
    feeder = setInterval(feed, FEED_EVERY_MS)

    const startedAt = new Map<string, number>()
    const logFile = (host: string): string => join(dir, 'logs', `${host}.log`)
    for (const s of specs) {
      const a = new AgentProcess(s, logFile(s.host), (e) => { if (e.kind === 'started') startedAt.set(e.host, Date.now()) },
        (host, code, expected) => { if (!expected) { crashes.push(`${host} exited by itself (code ${String(code)})`); note(`agent ${host} exited unexpectedly`) } })
      agents.set(s.host, a)
      a.start()
    }
    const readyBy = Date.now() + AGENTS_READY_TIMEOUT_MS
    while (startedAt.size < specs.length) {
      if (Date.now() > readyBy) throw new Error(`agents not started after ${AGENTS_READY_TIMEOUT_MS / 1000} s`)
      if (opts.signal?.aborted === true) throw new Error('aborted')
      await sleep(100, opts.signal)
    }
    note(`${specs.length} agents started (qemu driver, mode auto, ${QEMU_ROUND_MS / 1000} s rounds)`)

    // Every agent's log, read by one pump: the round book, the migration counts, and kill-source's trigger.
    const book = new RoundBook(timing)
    const tails = new Map(specs.map(s => [s.host, new LogTail(logFile(s.host))]))
    const migrations = { started: 0, done: 0, failed: 0, cancelled: 0 }
    let startedWaiters: Array<(m: { vm: string, from: string, to: string }) => void> = []
    let pumping: Promise<void> = Promise.resolve()
    const pump = async (): Promise<void> => {
      pumping = pumping.then(async () => {
        for (const [host, tail] of tails) {
          for (const line of await tail.lines()) {
            book.addLogLine(host, line)
            if (!line.startsWith('{')) continue
            let r: Record<string, unknown>
            try { r = JSON.parse(line) as Record<string, unknown> } catch { continue }
            if (r.msg === 'migrating') {
              migrations.started++
              const w = startedWaiters
              startedWaiters = []
              for (const f of w) f({ vm: String(r.vm), from: String(r.from), to: String(r.to) })
            } else if (r.msg === 'migrated') migrations.done++
            else if (r.msg === 'migration failed') {
              migrations.failed++
              if (/cancel/i.test(String(r.error))) migrations.cancelled++
            }
          }
        }
      })
      await pumping
    }
    const nextMigration = async (timeoutMs: number, signal: AbortSignal): Promise<{ vm: string, from: string, to: string } | undefined> => {
      let found: { vm: string, from: string, to: string } | undefined
      startedWaiters.push(m => { found = m })
      const until = Date.now() + timeoutMs
      while (found === undefined && Date.now() < until && !signal.aborted) { await pump(); if (found === undefined) await sleep(100, signal) }
      return found
    }

    const vms = new Set(GUESTS.map(([g]) => g))
    const capacity = new Map(HOSTS.map(h => [h.host, HOST_CAPACITY]))
    const violations: Violation[] = []
    let rereads = 0
    let movesSeen = 0
    const lastSeen = new Map<string, string>()
    /** Guests in hand-over now, with the rounds so far; ended waits go to handOverWaits. */
    const waiting = new Map<string, number>()
    const handOverWaits: QemuChaosReport['handOverWaits'] = []
    const firstRound = roundAt(Date.now(), timing) + 1
    const lastRound = firstRound + opts.rounds - 1
    const windowRounds = (upTo: number): AgentRound[] => book.rounds().filter(r => r.round >= firstRound && r.round <= upTo)
    const check = async (round: number): Promise<void> => {
      await pump()
      const truth = await readQemuTruth(hostDirs, vms, opts.signal)
      rereads += truth.reread
      for (const v of checkInvariants({ vms, placed: truth.placed, capacity, rounds: windowRounds(round) })) {
        if (violations.some(x => x.detail === v.detail)) continue
        violations.push(v)
        note(`VIOLATION (invariant ${v.invariant}): ${v.detail} [QEMU: ${truth.states.filter(s => v.detail.includes(s.vm)).map(s => `${s.vm}@${s.host}=${s.status}`).join(' ')}]`)
      }
      for (const vm of vms) {
        if (truth.handingOver.includes(vm)) waiting.set(vm, (waiting.get(vm) ?? 0) + 1)
        else if (waiting.has(vm)) { handOverWaits.push({ vm, rounds: waiting.get(vm)!, open: false }); waiting.delete(vm) }
      }
      for (const vm of vms) {
        const on = truth.placed.filter(p => p.vm === vm).map(p => p.host)
        if (on.length !== 1) continue
        if (lastSeen.has(vm) && lastSeen.get(vm) !== on[0]) movesSeen++
        lastSeen.set(vm, on[0]!)
      }
      const where = [...vms].map(vm => `${vm}@${truth.placed.filter(p => p.vm === vm).map(p => p.host).join('+') || '-'}${truth.handingOver.includes(vm) ? '(paused, awaiting hand-over)' : ''}`).join(' ')
      const up = [...agents.values()].filter(a => a.running).length
      note(`round ${round - firstRound + 1}: ${up}/${agents.size} agents up; running: ${where}; migrations ${migrations.started} started, ${migrations.done} done, ${migrations.failed} failed; ${violations.length} violations`)
    }

    const stop = new AbortController()
    const onAbort = (): void => stop.abort()
    opts.signal?.addEventListener('abort', onAbort, { once: true })
    const faults = Object.fromEntries(QEMU_FAULT_KINDS.map(k => [k, 0])) as Record<QemuFaultKind, number>
    const skipped = Object.fromEntries(QEMU_FAULT_KINDS.map(k => [k, 0])) as Record<QemuFaultKind, number>
    let restarts = 0
    let killsMidMigration = 0
    const sleepRounds = async (n: number): Promise<void> => sleep(n * QEMU_ROUND_MS, stop.signal)
    const faultLoop = async (): Promise<void> => {
      for (let i = 0; !stop.signal.aborted; i++) {
        await sleepRounds(GAP_ROUNDS)
        if (stop.signal.aborted) break
        const kind = QEMU_FAULT_KINDS[i % QEMU_FAULT_KINDS.length]!
        let victim: string | undefined
        let cutDc: string | undefined
        if (kind === 'kill-source') {
          const m = await nextMigration(MIGRATION_WAIT_ROUNDS * QEMU_ROUND_MS, stop.signal)
          if (m === undefined) { if (!stop.signal.aborted) { skipped[kind]++; note('skipped kill-source: no migration started in time') } continue }
          await sleep(rng.int(0, MAX_KILL_DELAY_MS), stop.signal)
          await agents.get(m.from)?.kill()
          victim = m.from
          const status = await migrationStatus(hostDirs.find(h => h.host === m.from)!.dir, m.vm)
          if (status === 'active' || status === 'setup' || status === 'device') killsMidMigration++
          note(`kill-source: kill -9 ${m.from}, source of ${m.vm} ${m.from} -> ${m.to}; its QEMU's migration then: ${status}`)
        } else if (kind === 'kill') {
          victim = rng.pick([...agents.values()].filter(a => a.running).map(a => a.spec.host).sort())
          if (victim === undefined) { skipped[kind]++; continue }
          await agents.get(victim)!.kill()
          note(`kill: kill -9 the agent of ${victim}`)
        } else {
          cutDc = rng.pick(['A', 'B'])!
          await lab.setCut(cutDc, true)
          note(`wan-down: ${cutDc}'s WAN cut at the router (A <-> B unreachable, gossip and migrations)`)
        }
        faults[kind]++
        await sleepRounds(HOLD_ROUNDS)
        // Heals run even past the end: no agent stays dead, no link stays cut.
        if (cutDc !== undefined) { await lab.setCut(cutDc, false); note(`heal: ${cutDc}'s WAN restored`) }
        if (victim !== undefined) { agents.get(victim)!.start(); restarts++; note(`heal: started the agent of ${victim} again`) }
      }
    }
    const roundLoop = async (): Promise<void> => {
      for (let r = firstRound; r <= lastRound && !stop.signal.aborted; r++) {
        await sleep(roundStartMs(r, timing) + timing.periodMs * CHECK_AT - Date.now(), stop.signal)
        if (stop.signal.aborted) break
        if ((r - firstRound) % PHASE_ROUNDS === 0 && r !== firstRound) { phase = (phase + 1) % PHASES.length; note(`traffic: the sun moves to DC ${PHASES[phase]!}`) }
        await check(r)
      }
      stop.abort()
    }
    try {
      await Promise.all([faultLoop(), roundLoop()])
      // Moves of the last round finish and are logged; then one last look.
      await sleep(QEMU_ROUND_MS, opts.signal)
      await check(lastRound)
    } finally {
      opts.signal?.removeEventListener('abort', onAbort)
    }
    const window = windowRounds(lastRound)
    for (const [vm, rounds] of waiting) handOverWaits.push({ vm, rounds, open: true })
    return {
      rounds: opts.rounds, guests: vms.size, faults, skipped, restarts, killsMidMigration, migrations, movesSeen, violations, handOverWaits,
      splitRounds: splitRounds(window).map(r => r - firstRound + 1), rereads, log, crashes, ranSec: (Date.now() - t0) / 1000
    }
  } finally {
    await close()
  }
}

/** The source QEMU's migration state, asked once its agent is dead and the monitor free. */
async function migrationStatus (dir: string, vm: string): Promise<string> {
  try {
    const qmp = await QmpClient.connect(vmPaths(dir, vm).qmp, { timeoutMs: 5_000 })
    try { return (await qmp.execute<{ status?: string }>('query-migrate')).status ?? 'none' } finally { qmp.close() }
  } catch (err) {
    return `unknown (${(err as Error).message})`
  }
}
