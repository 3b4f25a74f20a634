/**
 * Gossip out: every message this host authors leaves through here, so its
 * sequence numbers rise in one place and its own copy is applied to the
 * view (gossipsub does not deliver our messages back to us). The numbers
 * rise across restarts and clock steps (lib/sequence.ts): none leaves
 * before a mark at or above it is on disk (seq-store.ts).
 */
import { nextSeq, reservationFor } from '../../lib/sequence.ts'
import { encodeEnvelope } from '../../lib/wire/codec.ts'
import type { Bodies, Envelope, Topic } from '../../lib/wire/messages.ts'
import { publish } from '../net/index.ts'
import type { SeqStore } from './seq-store.ts'
import type { ClusterContext } from './types.ts'

/** How a message leaves once applied here: gossipsub by default; the tiered dissemination hands it to its aggregator. */
export type Transmit = (env: Envelope, bytes: Uint8Array) => Promise<void>

export class Outbox {
  private readonly ctx: ClusterContext
  private readonly seqs: Record<Topic, number> = { host: 0, traffic: 0, plan: 0, event: 0 }
  private readonly store: SeqStore
  /** The stored mark (undefined until loaded: nothing may be numbered before). */
  private reserved: number | undefined
  /** The latest write of the mark: a message waits for it before it leaves. */
  private durable: Promise<void> = Promise.resolve()
  private transmit: Transmit
  /** Set by close: the layer below is going away, so nothing more is written or sent. */
  private closed = false
  /** See holdWhile. */
  private held: (() => boolean) | undefined

  constructor (ctx: ClusterContext, store: SeqStore) {
    this.ctx = ctx
    this.store = store
    this.transmit = async (env, bytes) => { await publish(ctx.node, ctx.node.topic(env.topic), bytes) }
  }

  /** Messages leave through `transmit` from now on. */
  through (transmit: Transmit): void {
    this.transmit = transmit
  }

  /** Loads the stored mark: every topic's numbers start above it. */
  async load (): Promise<void> {
    const { reserved, problem } = await this.store.load()
    if (problem !== undefined) this.ctx.log.error('sequence mark unreadable: numbers follow the clock alone until a new mark is written', { problem })
    for (const topic of Object.keys(this.seqs) as Topic[]) this.seqs[topic] = Math.max(this.seqs[topic], reserved)
    this.reserved = reserved
  }

  /**
   * Once stopped: the mark being written is waited for, and no write starts
   * after (a halted agent's migration may still end and report, and its
   * state directory may be gone or taken by its restart by then). Numbers
   * handed out later are never sent, so they need no mark.
   */
  async close (): Promise<void> {
    this.closed = true
    await this.durable.catch(() => undefined)
  }

  envelope<T extends Topic> (topic: T, round: number, body: Bodies[T]): Envelope<T> {
    if (this.reserved === undefined) throw new Error('the sequence mark is not loaded yet (start the cluster layer first)')
    const seq = nextSeq(this.seqs[topic], this.ctx.now())
    this.seqs[topic] = seq
    const mark = reservationFor(seq, this.reserved)
    if (mark !== undefined && !this.closed) {
      const before = this.reserved
      this.reserved = mark
      this.durable = this.store.save(mark)
      // A failed write fails the sends that wait for it, and the next message tries again.
      this.durable.catch(() => { if (this.reserved === mark) this.reserved = before })
    }
    return { v: 1, topic, host: this.ctx.host, round, seq, body }
  }

  /**
   * Holds every message while `pred` is true (signed membership: a host not
   * admitted yet, docs/design.md §3.7). The members would reject them as a
   * stranger's and lower its gossip score for it, which would outlast its
   * admission.
   */
  holdWhile (pred: () => boolean): void {
    this.held = pred
  }

  async send (env: Envelope): Promise<void> {
    const { node, view, counters } = this.ctx
    if (this.closed) throw new Error(`not sent: the cluster layer is stopped (${env.topic} message)`)
    if (this.held?.() === true) return
    // Only once a mark at or above its number is on disk (see envelope).
    await this.durable
    // Our own messages are not delivered back to us: apply them directly.
    view.accept(env, node.peerId, this.ctx.now())
    const bytes = encodeEnvelope(env)
    await this.transmit(env, bytes)
    counters.published++
    this.ctx.emit({ type: 'published', topic: env.topic, env, bytes: bytes.length, atMs: this.ctx.now() })
  }
}
