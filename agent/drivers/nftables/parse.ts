/**
 * Parses `nft -j list table FAMILY NAME` output into the counters the
 * collector needs: bytes per (src, dst) from the flow set and the bytes of
 * the `uncounted` counter. Strict about the parts it reads, indifferent to
 * the rest (nft versions add fields).
 */
import { CollectorError } from '../types.ts'

export interface PairCounter {
  src: string
  dst: string
  bytes: number
  packets: number
}

export interface TableCounters {
  pairs: PairCounter[]
  uncountedBytes: number
}

type Json = Record<string, unknown>

function isObject (v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v)
}

function count (v: unknown, what: string): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new CollectorError(`nft JSON: ${what} is not a counter value: ${JSON.stringify(v)}`)
  return v
}

/** One element of the flow set: `{elem: {val: {concat: [a, b]}, counter: {...}}}`. */
function parseElement (e: unknown): PairCounter {
  // nft wraps an element in {elem: ...} when it carries a counter or timeout; a bare value otherwise.
  const inner = isObject(e) && isObject(e.elem) ? e.elem : e
  const val = isObject(inner) ? inner.val : undefined
  const concat = isObject(val) ? val.concat : undefined
  if (!Array.isArray(concat) || concat.length !== 2 || typeof concat[0] !== 'string' || typeof concat[1] !== 'string') {
    throw new CollectorError(`nft JSON: flow element is not an address pair: ${JSON.stringify(e).slice(0, 200)}`)
  }
  const counter = isObject(inner) ? inner.counter : undefined
  if (!isObject(counter)) throw new CollectorError(`nft JSON: flow element without counter: ${JSON.stringify(e).slice(0, 200)}`)
  return { src: concat[0], dst: concat[1], bytes: count(counter.bytes, 'bytes'), packets: count(counter.packets, 'packets') }
}

export function parseTable (doc: unknown, setName: string, counterName: string): TableCounters {
  const items = isObject(doc) ? doc.nftables : undefined
  if (!Array.isArray(items)) throw new CollectorError('nft JSON: no "nftables" array')
  let pairs: PairCounter[] | undefined
  let uncountedBytes: number | undefined
  for (const item of items) {
    if (!isObject(item)) continue
    if (isObject(item.set) && item.set.name === setName) {
      const elems = item.set.elem ?? []
      if (!Array.isArray(elems)) throw new CollectorError('nft JSON: set elements are not an array')
      pairs = elems.map(parseElement)
    } else if (isObject(item.counter) && item.counter.name === counterName) {
      uncountedBytes = count(item.counter.bytes, 'bytes')
    }
  }
  if (pairs === undefined) throw new CollectorError(`nft JSON: set ${setName} missing (was the table removed?)`)
  if (uncountedBytes === undefined) throw new CollectorError(`nft JSON: counter ${counterName} missing (was the table removed?)`)
  return { pairs, uncountedBytes }
}
