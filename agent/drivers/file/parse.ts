/**
 * One flow record of the file collector: a JSON object on one line,
 * `{"src": "<IPv6>", "dst": "<IPv6>", "bytes": <N>}`, as an sFlow/IPFIX
 * pipeline (or anything else) appends it. Other keys are ignored, so an
 * exporter may add its own (a timestamp, a protocol).
 */
import { formatIpv6, parseIpv6 } from '../../../lib/address.ts'
import type { CounterDelta } from '../types.ts'

/** Returns the record, or why the line is not one. Blank lines are `undefined` (not an error). */
export function parseFlowLine (line: string): CounterDelta | string | undefined {
  if (line.trim() === '') return undefined
  let value: unknown
  try {
    value = JSON.parse(line)
  } catch {
    return 'not JSON'
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object'
  const o = value as Record<string, unknown>
  const src = address(o.src)
  if (src === undefined) return `src is not an IPv6 address: ${short(o.src)}`
  const dst = address(o.dst)
  if (dst === undefined) return `dst is not an IPv6 address: ${short(o.dst)}`
  const bytes = o.bytes
  if (typeof bytes !== 'number' || !Number.isSafeInteger(bytes) || bytes < 0) return `bytes is not a non-negative integer: ${short(bytes)}`
  return { src, dst, bytes }
}

/** Canonical text, so "FD00::1" and "fd00:0::1" are one pair. */
function address (v: unknown): string | undefined {
  if (typeof v !== 'string') return undefined
  const groups = parseIpv6(v)
  return groups === undefined ? undefined : formatIpv6(groups)
}

function short (v: unknown): string {
  const s = JSON.stringify(v) ?? String(v)
  return s.length > 60 ? `${s.slice(0, 60)}...` : s
}
