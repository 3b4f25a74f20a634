/**
 * Gossip out: every message this host authors leaves through here, so its
 * sequence numbers rise in one place and its own copy is applied to the
 * view (gossipsub does not deliver our messages back to us).
 */
import { encodeEnvelope } from '../../lib/wire/codec.ts'
import type { Bodies, Envelope, Topic } from '../../lib/wire/messages.ts'
import { publish } from '../net/index.ts'
import type { ClusterContext } from './types.ts'

export class Outbox {
  private readonly ctx: ClusterContext
  private readonly seqs: Record<Topic, number> = { host: 0, traffic: 0, plan: 0, event: 0 }

  constructor (ctx: ClusterContext) {
    this.ctx = ctx
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
    await publish(node, node.topic(env.topic), bytes)
    counters.published++
    this.ctx.emit({ type: 'published', topic: env.topic, env, bytes: bytes.length, atMs: this.ctx.now() })
  }
}
