/**
 * Shared by the lab tests: root or skip (with the reason on the console),
 * a unique lab prefix per test, and cleanup that also runs when a worker
 * dies without its teardowns.
 */
import { spawnSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ExecutionContext, TestFn } from 'ava'
import { fileURLToPath } from 'node:url'
import { runLabChaos, type LabChaosReport } from '../../lab/chaos/lab-chaos-run.ts'
import type { LabFaultKind } from '../../lab/chaos/lab-faults.ts'
import { loadScenario } from '../../lab/run/scenario.ts'
import { labDown } from '../../lab/net/down.ts'
import { requires } from '../prerequisites.ts'


/** The lab's needs: namespaces, veth, bridges, nftables, tc. */
export const LAB_NEEDS = ['root', 'iproute2', 'nftables', 'nf_tables', 'netns'] as const

/** Serial tests when the lab can run; skipped with the reason otherwise (failed in CI as root: test/prerequisites.ts). */
export function labTest (file: string): Promise<TestFn> {
  return requires(file, ...LAB_NEEDS)
}

/** A lab prefix no other test or lab uses: "hl" and 8 hex digits. */
export function uniquePrefix (): string {
  return `hl${randomBytes(4).toString('hex')}`
}

export interface TestLabDir { prefix: string, dir: string }

/** A prefix and a state directory; both removed at teardown, and the namespaces at process exit too. */
export async function labScope (t: { teardown (fn: () => Promise<void> | void): void }): Promise<TestLabDir> {
  const prefix = uniquePrefix()
  const dir = await mkdtemp(join(tmpdir(), `${prefix}-`))
  t.teardown(async () => {
    await labDown(prefix).catch(() => undefined)
    await rm(dir, { recursive: true, force: true })
  })
  process.once('exit', () => {
    let names: string[] = []
    try { names = readdirSync('/run/netns').filter(n => n.startsWith(`${prefix}-`)) } catch {}
    for (const n of names) {
      const pids = spawnSync('ip', ['netns', 'pids', n], { encoding: 'utf8' }).stdout ?? ''
      for (const p of pids.split('\n').filter(Boolean)) { try { process.kill(Number(p), 'SIGKILL') } catch {} }
      spawnSync('ip', ['netns', 'del', n], { timeout: 5000 })
    }
  })
  return { prefix, dir }
}

/** A cap on a once-through chaos run of the follow-the-sun lab (a fault list once takes 2-4 minutes here). */
export const CHAOS_CAP_SEC = 330
/** Agents starting before, the lab going down after. */
const CHAOS_OVERHEAD_MS = 150_000

/** Runs the faults once against real agents in the follow-the-sun lab (4 DCs x 1 host), with the test's timeout set to fit. */
export async function followTheSunChaos (t: ExecutionContext, faults?: readonly LabFaultKind[]): Promise<LabChaosReport> {
  t.timeout(CHAOS_CAP_SEC * 1000 + CHAOS_OVERHEAD_MS)
  const { prefix, dir } = await labScope(t)
  const scenario = await loadScenario(fileURLToPath(new URL('../../lab/scenarios/follow-the-sun.json', import.meta.url)))
  return await runLabChaos({ scenario, durationSec: CHAOS_CAP_SEC, once: true, seed: 1, prefix, dir, ...(faults !== undefined ? { faults } : {}) })
}
