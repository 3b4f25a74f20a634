/**
 * The local control channel's messages: one JSON request per connection,
 * one JSON reply, each on one line. Small on purpose: the operator's
 * commands (approve, pin, unpin, drain, undrain, cluster) and a look at the controls.
 */
import { Checker, type Json } from '../../lib/check.ts'
import { MAX_CLUSTER_RULES_BYTES } from '../../lib/cluster-rules.ts'
import { readRevocation } from '../../lib/membership-wire.ts'
import { readSettings, type ClusterSettings } from '../../lib/settings.ts'

export const CONTROL_OPS = ['controls', 'approve', 'pin', 'unpin', 'drain', 'undrain', 'cluster', 'revoke', 'admin-key'] as const
export type ControlOp = typeof CONTROL_OPS[number]

export type ControlRequest =
  | { op: 'controls' }
  /** Without a round: list the plans waiting for approval. */
  | { op: 'approve', round?: number }
  /** Without a VM: list the pinned VMs. */
  | { op: 'pin', vm?: string }
  | { op: 'unpin', vm: string }
  | { op: 'drain' }
  | { op: 'undrain' }
  /** Without set and unset: show the settings in effect here. Values (a rule list for `rules`) are checked by the agent (the config's rules). */
  | { op: 'cluster', set?: Record<string, SetValue>, unset?: string[], signed?: undefined }
  /** With an admin key: the whole record, made and signed by the command (lib/settings.ts); checked by the agent. */
  | { op: 'cluster', signed: ClusterSettings, set?: undefined, unset?: undefined }
  /** `heliotrope members remove`: an admin-signed revocation (lib/membership.ts), the signature in base64; checked by the agent. */
  | { op: 'revoke', revocation: { cluster: string, host: string, at: number }, sig: string }
  /**
   * `heliotrope admin-key`: without `rotate`, the admin keys trusted and the
   * records held (for the CLI to re-sign); with it, a rotation's bundle
   * (base64 CBOR: the key record and the re-signed records), checked by the agent.
   */
  | { op: 'admin-key', rotate?: string }

export type ControlReply =
  | { ok: true, message: string, data?: unknown }
  | { ok: false, error: string }

/** A value in a `cluster` set: a word, a number, or the rule list (its rules checked by the agent). */
export type SetValue = string | number | Json[]

/**
 * Bounds what a client may send. Requests are small but two: an admin-key
 * rotation carries every membership record re-signed (MAX_BUNDLE_RECORDS of
 * about 300 bytes, in base64), and a cluster rule list may reach
 * MAX_CLUSTER_RULES_BYTES. The socket is the host's root's only (file
 * permissions), so this is a bound against mistakes, not an attacker.
 */
export const MAX_REQUEST_BYTES = Math.max(512 * 1024, MAX_CLUSTER_RULES_BYTES + 16 * 1024)

export interface ControlHandler {
  handle (req: ControlRequest): Promise<ControlReply>
}

export const NOT_ONE_LINE_OF_JSON = 'a request is one line of JSON'

/** Reads one request line (without its newline), or returns what is wrong with it. */
export function parseControlLine (line: string): ControlRequest | string {
  let json: unknown
  try { json = JSON.parse(line) } catch { return NOT_ONE_LINE_OF_JSON }
  return readControlRequest(json)
}

/** Validates a request, or returns what is wrong with it. */
export function readControlRequest (value: Json): ControlRequest | string {
  const c = new Checker(5)
  const o = c.object('', value)
  if (o === undefined) return 'a request is a JSON object'
  const op = c.oneOf('op', o.op, CONTROL_OPS)
  if (op === undefined) return c.summary('(request)')
  if (op === 'approve') {
    c.onlyKeys('', o, ['op', 'round'])
    const round = c.optional(o.round, x => c.number('round', x, { integer: true, min: 0 }))
    if (!c.ok) return c.summary('(request)')
    return round === undefined ? { op } : { op, round }
  }
  if (op === 'pin' || op === 'unpin') {
    c.onlyKeys('', o, ['op', 'vm'])
    const vm = op === 'unpin' ? c.string('vm', o.vm, { max: 128 }) : c.optional(o.vm, x => c.string('vm', x, { max: 128 }))
    if (!c.ok) return c.summary('(request)')
    if (op === 'unpin') return { op, vm: vm! }
    return vm === undefined ? { op } : { op, vm }
  }
  if (op === 'cluster') return readCluster(c, o)
  if (op === 'revoke') return readRevoke(c, o)
  if (op === 'admin-key') {
    c.onlyKeys('', o, ['op', 'rotate'])
    const rotate = c.optional(o.rotate, x => c.string('rotate', x, { nonEmpty: true }))
    if (!c.ok) return c.summary('(request)')
    return rotate === undefined ? { op } : { op, rotate }
  }
  c.onlyKeys('', o, ['op'])
  return c.ok ? { op } : c.summary('(request)')
}

function readRevoke (c: Checker, o: Record<string, Json>): ControlRequest | string {
  c.onlyKeys('', o, ['op', 'revocation', 'sig'])
  const revocation = readRevocation(c, 'revocation', o.revocation)
  const sig = c.string('sig', o.sig, { nonEmpty: true, max: 128 })
  if (!c.ok || revocation === undefined || sig === undefined) return c.summary('(request)')
  return { op: 'revoke', revocation, sig }
}

/** Keys at most in one `cluster` request: there are nine settings. */
const MAX_SETTINGS = 16

function readCluster (c: Checker, o: Record<string, Json>): ControlRequest | string {
  if (o.signed !== undefined) {
    c.onlyKeys('', o, ['op', 'signed'])
    const signed = readSettings(c, 'signed', o.signed)
    return c.ok && signed !== undefined ? { op: 'cluster', signed } : c.summary('(request)')
  }
  c.onlyKeys('', o, ['op', 'set', 'unset'])
  const set = c.optional(o.set, x => c.object('set', x))
  const out: Record<string, SetValue> = {}
  const entries = Object.entries(set ?? {})
  if (entries.length > MAX_SETTINGS) c.fail('set', `at most ${MAX_SETTINGS} settings`, set)
  for (const [k, v] of entries.slice(0, MAX_SETTINGS)) {
    if (typeof v === 'string' || typeof v === 'number' || (k === 'rules' && Array.isArray(v))) out[k] = v as SetValue
    else c.fail(`set.${k}`, k === 'rules' ? 'a list of placement rules' : 'a string or a number', v)
  }
  const unsetRaw = c.optional(o.unset, x => c.array('unset', x))
  if (unsetRaw !== undefined && unsetRaw.length > MAX_SETTINGS) c.fail('unset', `at most ${MAX_SETTINGS} settings`, unsetRaw)
  const unset = (unsetRaw ?? []).slice(0, MAX_SETTINGS).map((x, i) => c.string(`unset[${i}]`, x, { max: 64 }) ?? '')
  if (!c.ok) return c.summary('(request)')
  return { op: 'cluster', ...(set === undefined ? {} : { set: out }), ...(unsetRaw === undefined ? {} : { unset }) }
}
