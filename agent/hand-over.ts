/**
 * The source's side of a hand-over (docs/design.md §6.1): the migration
 * completed, our copy is paused, the target's waits paused; ask the target
 * to start its copy ('commit' of the migrate protocol) until it answers one
 * way or the other. A definite answer: ok (it runs there now, or already
 * did: an earlier answer was lost), or unknown-reservation (the target
 * dropped its copy, its reservation expired: ours is the only one). Anything
 * else is asked again, until the window closes: then nobody knows, and the
 * driver leaves both copies paused.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { HandOverAnswer } from './drivers/types.ts'
import type { MigrateRequest, MigrateResponse } from './migrate-protocol.ts'

/**
 * How long the source keeps asking, in ms: longer than the target keeps an
 * unanswered copy (its reservation ends at most RESERVATION_MARGIN_MS after
 * the migration deadline), so a link that comes back within it gets a
 * definite answer.
 */
export const HAND_OVER_WINDOW_MS = 60_000
export const HAND_OVER_RETRY_MS = 1_000

export interface HandOverContext {
  ask: (host: string, req: MigrateRequest) => Promise<MigrateResponse>
  now: () => number
  /** True once the agent is stopping: one more try, then give up. */
  stopping: () => boolean
  /** Called before each try after the first, with why the last one did not settle it. */
  onRetry?: (why: string) => void
  windowMs?: number
  retryMs?: number
}

export async function handOver (c: HandOverContext, to: string, round: number, vmId: string): Promise<HandOverAnswer> {
  const until = c.now() + (c.windowMs ?? HAND_OVER_WINDOW_MS)
  for (;;) {
    let why: string
    try {
      const answer = await c.ask(to, { op: 'commit', round, vmId })
      if (answer.ok) return 'started'
      if (answer.reason === 'unknown-reservation') return 'refused'
      why = `${answer.reason}: ${answer.detail}`
    } catch (err) {
      why = (err as Error).message
    }
    if (c.stopping() || c.now() + (c.retryMs ?? HAND_OVER_RETRY_MS) > until) return 'unknown'
    c.onRetry?.(why)
    await sleep(c.retryMs ?? HAND_OVER_RETRY_MS)
  }
}
