/**
 * The config's safety section and mode (agent/config.ts calls these), with
 * the same precise errors as the rest of the file.
 */
import { join as joinPath } from 'node:path'
import { Checker, type Json } from '../../lib/check.ts'
import { DEFAULT_COOLDOWN_ROUNDS, DEFAULT_MAX_IN_FLIGHT, DEFAULT_MAX_IN_FLIGHT_PER_HOST, DEFAULT_MIN_IMPROVEMENT } from '../../lib/planners/limits.ts'
import { DEFAULT_MODE, MODES, type Mode } from './mode.ts'

/** Rounds an operator has to approve a plan before it lapses (5 minutes at 30 s rounds). */
export const DEFAULT_APPROVAL_WINDOW_ROUNDS = 10
/** File name of the control socket in the state directory. */
export const CONTROL_SOCKET_FILE = 'control.sock'
/** A unix socket path's limit (sun_path is 108 bytes with its NUL). */
export const MAX_SOCKET_PATH_BYTES = 107

export interface SafetyConfig {
  /** Migrations in flight at once across the cluster. */
  maxInFlight: number
  /** Outbound migrations in flight at once per host. */
  maxInFlightPerHost: number
  /** Rounds a VM stays put after it moved. */
  cooldownRounds: number
  /** A plan runs only if it cuts the cost by this fraction of it. */
  minImprovement: number
  /** Rounds a plan waits for approval (mode approve) before it lapses. */
  approvalWindowRounds: number
}

export const SAFETY_KEYS = ['maxInFlight', 'maxInFlightPerHost', 'cooldownRounds', 'minImprovement', 'approvalWindowRounds'] as const

export const DEFAULT_SAFETY: Readonly<SafetyConfig> = {
  maxInFlight: DEFAULT_MAX_IN_FLIGHT,
  maxInFlightPerHost: DEFAULT_MAX_IN_FLIGHT_PER_HOST,
  cooldownRounds: DEFAULT_COOLDOWN_ROUNDS,
  minImprovement: DEFAULT_MIN_IMPROVEMENT,
  approvalWindowRounds: DEFAULT_APPROVAL_WINDOW_ROUNDS
}

export function readMode (c: Checker, v: Json): Mode {
  return v === undefined ? DEFAULT_MODE : c.oneOf('mode', v, MODES) ?? DEFAULT_MODE
}

export function readSafety (c: Checker, v: Json): SafetyConfig {
  if (v === undefined) return { ...DEFAULT_SAFETY }
  const o = c.object('safety', v) ?? {}
  c.onlyKeys('safety', o, SAFETY_KEYS)
  const num = (key: keyof SafetyConfig, opts: Parameters<Checker['number']>[2]): number =>
    o[key] === undefined ? DEFAULT_SAFETY[key] : c.number(`safety.${key}`, o[key], opts) ?? DEFAULT_SAFETY[key]
  return {
    maxInFlight: num('maxInFlight', { min: 1, integer: true }),
    maxInFlightPerHost: num('maxInFlightPerHost', { min: 1, integer: true }),
    cooldownRounds: num('cooldownRounds', { min: 0, integer: true }),
    minImprovement: num('minImprovement', { min: 0, max: 1 }),
    approvalWindowRounds: num('approvalWindowRounds', { min: 1, integer: true })
  }
}

/** The control socket's path: the config's, else control.sock in the state directory. */
export function readControlSocket (c: Checker, v: Json, stateDir: string): string {
  const path = v === undefined ? joinPath(stateDir, CONTROL_SOCKET_FILE) : c.string('controlSocket', v) ?? ''
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) c.fail(v === undefined ? 'stateDir' : 'controlSocket', `a path that leaves the control socket at most ${MAX_SOCKET_PATH_BYTES} bytes long`, path)
  return path
}
