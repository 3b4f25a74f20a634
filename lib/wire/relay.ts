/**
 * The tiered dissemination's one message (docs/design.md §9.8): a list of
 * signed envelopes, each the CBOR bytes of an Envelope (messages.ts) and its
 * author's ed25519 signature over those bytes. Aggregators pass items on as
 * they came: they cannot invent or alter a host's message without the
 * signature failing at every receiver. Signing and checking happen in the
 * agent (lib stays free of crypto); this reads the shape.
 *
 *   report  a host to its DC's aggregator: its state, digest and events
 *   batch   an aggregator to the other DCs' aggregators: its hosts' items
 *   notice  an aggregator to its hosts: plans it accepted, votes for movers
 *   audit   a host to another DC's aggregator, no items: which of my digests
 *           reached you? (an aggregator that hides a host's reports is
 *           caught by the host itself)
 */
import { Checker, join, type Json } from '../check.ts'
import { MAX_MESSAGE_BYTES } from './messages.ts'

export const RELAY_KINDS = ['report', 'batch', 'notice', 'audit'] as const
export type RelayKind = typeof RELAY_KINDS[number]

/** An envelope's bytes and its author's signature over them. */
export interface SignedItem {
  e: Uint8Array
  s: Uint8Array
}

export interface RelayMessage {
  kind: RelayKind
  /** The sender's epoch (lib/roles.ts): a batch from another epoch still applies, but says the roles moved. */
  epoch: number
  items: SignedItem[]
}

/** The receiver's answer: `fresh` when it had not heard from this aggregator in the epoch (it wants the states it lacks). */
export interface RelayAnswer {
  accepted: number
  dropped: number
  fresh: boolean
  /** To an audit: the seq of the asker's newest digest the receiver's view holds (-1: none). */
  held?: number
}

/** Items in one message: a DC's reports of a burst, or a plan's votes. */
export const MAX_RELAY_ITEMS = 8192
/** ed25519 signatures are 64 bytes. */
const SIGNATURE_BYTES = 64
/** One relay message, encoded: a few thousand hosts' digests fit. */
export const MAX_RELAY_BYTES = 16 * 1024 * 1024

/** Returns the message, or a one-line description of what is wrong with it. */
export function readRelayMessage (value: Json): RelayMessage | string {
  const c = new Checker(3)
  const o = c.object('', value)
  if (o === undefined) return c.summary('(relay)')
  c.onlyKeys('', o, ['kind', 'epoch', 'items'])
  const kind = c.oneOf('kind', o.kind, RELAY_KINDS)
  const epoch = c.number('epoch', o.epoch, { integer: true, min: 0 })
  const arr = c.array('items', o.items)
  if (arr !== undefined && arr.length > MAX_RELAY_ITEMS) c.fail('items', `at most ${MAX_RELAY_ITEMS}`, arr.length)
  const items: SignedItem[] = []
  for (const [i, it] of (arr ?? []).entries()) {
    if (!c.ok) break
    const p = join('items', i)
    const r = c.object(p, it)
    if (r === undefined) break
    c.onlyKeys(p, r, ['e', 's'])
    if (!(r.e instanceof Uint8Array) || r.e.length === 0 || r.e.length > MAX_MESSAGE_BYTES) c.fail(join(p, 'e'), `envelope bytes (1-${MAX_MESSAGE_BYTES})`, r.e)
    else if (!(r.s instanceof Uint8Array) || r.s.length !== SIGNATURE_BYTES) c.fail(join(p, 's'), `a ${SIGNATURE_BYTES}-byte signature`, r.s)
    else items.push({ e: r.e, s: r.s })
  }
  if (!c.ok || kind === undefined || epoch === undefined) return c.summary('(relay)')
  return { kind, epoch, items }
}

export function readRelayAnswer (value: Json): RelayAnswer | string {
  const c = new Checker(3)
  const o = c.object('', value)
  if (o === undefined) return c.summary('(relay answer)')
  c.onlyKeys('', o, ['accepted', 'dropped', 'fresh', 'held'])
  const accepted = c.number('accepted', o.accepted, { integer: true, min: 0 })
  const dropped = c.number('dropped', o.dropped, { integer: true, min: 0 })
  const fresh = c.boolean('fresh', o.fresh)
  const held = o.held === undefined ? undefined : c.number('held', o.held, { integer: true, min: -1 })
  if (!c.ok) return c.summary('(relay answer)')
  return { accepted: accepted!, dropped: dropped!, fresh: fresh!, ...(held === undefined ? {} : { held }) }
}
