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
import type { TestFn } from 'ava'
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
