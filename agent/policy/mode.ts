/**
 * What an agent is allowed to do, from watching to acting (the ladder
 * Watcher, DRS and the descheduler offer): observe gossips and never plans;
 * dry-run plans and logs, never migrates; approve plans and waits for an
 * operator's `heliotrope approve ROUND`; auto carries plans out.
 */
import type { Mode } from '../../lib/modes.ts'

export { MODES, type Mode } from '../../lib/modes.ts'

/**
 * What an agent does when its config names no mode: watch. Nothing
 * migrates unless the operator asked for it; the agent still joins, gossips
 * and shows the cluster (API, console), and says its mode as it starts.
 */
export const DEFAULT_MODE: Mode = 'observe'
/** What `heliotrope init` writes: watch the plans before letting them run. */
export const INIT_MODE: Mode = 'dry-run'

export function plans (mode: Mode): boolean {
  return mode !== 'observe'
}

/** Whether this host takes part in migrations at all (out or in). */
export function migrates (mode: Mode): boolean {
  return mode === 'auto' || mode === 'approve'
}
