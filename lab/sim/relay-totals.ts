/**
 * Relay requests summed over agents (tiered dissemination, docs/design.md
 * §9.8): what bench:gossip sets beside lab model's message counts. Each
 * request is two frames, the request and its answer.
 */
import type { Agent } from '../../agent/agent.ts'
import { TOPICS, type Topic } from '../../lib/wire/messages.ts'
import { RELAY_KINDS, type RelayKind } from '../../lib/wire/relay.ts'

export interface RelayTotals {
  sent: Record<RelayKind, number>
  served: Record<RelayKind, number>
  /** Signed items in what was sent, by kind. */
  items: Record<RelayKind, number>
  /** Messages the agents' views took, by topic (relayed items and gossip alike). */
  applied: Record<Topic, number>
  /** Per agent, the batches it sent so far: who aggregated. */
  batchesBy: Record<string, number>
}

export function noRelay (): RelayTotals {
  const zero = (): Record<RelayKind, number> => Object.fromEntries(RELAY_KINDS.map(k => [k, 0])) as Record<RelayKind, number>
  return { sent: zero(), served: zero(), items: zero(), applied: Object.fromEntries(TOPICS.map(t => [t, 0])) as Record<Topic, number>, batchesBy: {} }
}

export function addRelay (into: RelayTotals, more: RelayTotals): RelayTotals {
  for (const k of RELAY_KINDS) { into.sent[k] += more.sent[k]; into.served[k] += more.served[k]; into.items[k] += more.items[k] }
  for (const t of TOPICS) into.applied[t] += more.applied[t]
  for (const [h, b] of Object.entries(more.batchesBy)) into.batchesBy[h] = (into.batchesBy[h] ?? 0) + b
  return into
}

export function relayOf (agents: Iterable<Agent>): RelayTotals {
  const out = noRelay()
  for (const a of agents) addRelay(out, { sent: a.counters.relaySent, served: a.counters.relayServed, items: a.counters.relayItemsSent, applied: a.counters.messagesIn, batchesBy: { [a.host]: a.counters.relaySent.batch } })
  return out
}

/**
 * Frames an agent received: every request it served, and the answer to every
 * request it sent (as many go out: the answers it gave, the requests it sent).
 */
export function framesIn (t: RelayTotals): number {
  let n = 0
  for (const k of RELAY_KINDS) n += t.sent[k] + t.served[k]
  return n
}

/** later - earlier, kind by kind. */
export function relaySince (later: RelayTotals, earlier: RelayTotals): RelayTotals {
  const out = noRelay()
  for (const k of RELAY_KINDS) { out.sent[k] = later.sent[k] - earlier.sent[k]; out.served[k] = later.served[k] - earlier.served[k]; out.items[k] = later.items[k] - earlier.items[k] }
  for (const t of TOPICS) out.applied[t] = later.applied[t] - earlier.applied[t]
  for (const [h, b] of Object.entries(later.batchesBy)) if (b > (earlier.batchesBy[h] ?? 0)) out.batchesBy[h] = b - (earlier.batchesBy[h] ?? 0)
  return out
}
