/**
 * The config's safety section, mode and control socket: their parts of the
 * config's one definition (agent/config.ts puts them together).
 */
import { join as joinPath } from 'node:path'
import { z } from 'zod'
import { closed, integer, nonEmpty } from '../config-issues.ts'
import { DEFAULT_COOLDOWN_ROUNDS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT_PER_HOST, DEFAULT_MIN_IMPROVEMENT } from '../../lib/planners/limits.ts'
import { DEFAULT_MODE, MODES } from './mode.ts'

/** Rounds an operator has to approve a plan before it lapses (5 minutes at 30 s rounds). */
export const DEFAULT_APPROVAL_WINDOW_ROUNDS = 10
/** File name of the control socket in the state directory. */
export const CONTROL_SOCKET_FILE = 'control.sock'
/** A unix socket path's limit (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107

/** The `safety` section: every field has a default, so an absent section is all defaults. */
export const SAFETY_SECTION = closed({
  maxInFlight: integer().min(1).default(DEFAULT_MAX_IN_FLIGHT).meta({ description: 'Migrations in flight at once across the cluster.' }),
  maxInFlightPerHost: integer().min(1).default(DEFAULT_MAX_IN_FLIGHT_PER_HOST).meta({ description: 'Outbound migrations in flight at once per host.' }),
  cooldownRounds: integer().min(0).default(DEFAULT_COOLDOWN_ROUNDS).meta({ description: 'Rounds a VM stays put after it moved.' }),
  minImprovement: z.number().min(0).max(1).default(DEFAULT_MIN_IMPROVEMENT).meta({ description: 'A plan runs only if it cuts the cost by this fraction of it.' }),
  approvalWindowRounds: integer().min(1).default(DEFAULT_APPROVAL_WINDOW_ROUNDS).meta({ description: 'Rounds a plan waits for approval (mode approve) before it lapses.' })
}).prefault({}).meta({ description: "Limits on migrations (KubeVirt's defaults: 5 at once per cluster, 2 outbound per node)." })

export type SafetyConfig = z.output<typeof SAFETY_SECTION>

export const DEFAULT_SAFETY: Readonly<SafetyConfig> = SAFETY_SECTION.parse(undefined)

export const MODE_FIELD = z.enum(MODES).default(DEFAULT_MODE).meta({
  description: 'observe: gossip only; dry-run: plan and log, never migrate; approve: plans wait for `heliotrope approve ROUND`; auto: carry plans out. Without it: observe, so nothing migrates unless asked for.'
})

export const CONTROL_SOCKET_FIELD = nonEmpty().optional().meta({ description: `The local control socket; default ${CONTROL_SOCKET_FILE} in stateDir (at most ${MAX_SOCKET_PATH_BYTES} bytes).` })

/** The control socket's path: the config's, else control.sock in the state directory. */
export function controlSocketPath (controlSocket: string | undefined, stateDir: string): string {
  return controlSocket ?? joinPath(stateDir, CONTROL_SOCKET_FILE)
}

/** What a control socket's path must be, in the config's words, when it is too long (sun_path). */
export const SOCKET_PATH_LIMIT = `a path that leaves the control socket at most ${MAX_SOCKET_PATH_BYTES} bytes long`

export function socketPathTooLong (path: string): boolean {
  return Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES
}
