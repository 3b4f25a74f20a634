/**
 * Gossip out: every message this host authors leaves through here, so its
 * sequence numbers rise in one place and its own copy is applied to the
 * view (gossipsub does not deliver our messages back to us).
 */
import { encodeEnvelope } from '../../lib/wire/codec.ts'
import type { Bodies, Envelope, Topic } from '../../lib/wire/messages.ts'
import { publish } from '../net/index.ts'
import type { ClusterContext } from './types.ts'

/** How a message leaves once applied here: gossipsub by default; the tiered dissemination hands it to its aggregator. */
export type Transmit = (env: Envelope, bytes: Uint8Array) => Promise<void>

export class Outbox {
  private readonly ctx: ClusterContext
  private readonly seqs: Record<Topic, number> = { host: 0, traffic: 0, plan: 0, event: 0 }
  private transmit: Transmit

  constructor (ctx: ClusterContext) {
    this.ctx = ctx
    this.transmit = async (env, bytes) => { await publish(ctx.node, ctx.node.topic(env.topic), bytes) }
  }

  /** Messages leave through `transmit` from now on. */
  through (transmit: Transmit): void {
    this.transmit = transmit
  }

  envelope<T extends Topic> (topic: T, round: number, body: Bodies[T]): Envelope<T> {
    // Sequence numbers come from the clock so they keep rising across restarts.
    const seq = Math.max(this.seqs[topic] + 1, this.ctx.now() * 1000)
    this.seqs[topic] = seq
    return { v: 1, topic, host: this.ctx.host, round, seq, body }
  }

  async send (env: Envelope): Promise<void> {
    const { node, view, counters } = this.ctx
    // Our own messages are not delivered back to us: apply them directly.
    view.accept(env, node.peerId, this.ctx.now())
    const bytes = encodeEnvelope(env)
    await this.transmit(env, bytes)
    counters.published++
    this.ctx.emit({ type: 'published', topic: env.topic, env, bytes: bytes.length, atMs: this.ctx.now() })
  }
}
