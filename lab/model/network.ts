/**
 * The simulated network: who is up, how long a message takes between DCs,
 * and what sending and receiving cost each end (lab/model/constants.ts).
 * Two ways to send, as the agents have: a direct stream (one frame to one
 * peer, TCP underneath, so loss costs a retransmission, not the message)
 * and a gossipsub flood (every subscriber gets GOSSIP_COPIES_IN frames of
 * it and forwards GOSSIP_FORWARDS_OUT). Work is queued per host in the
 * order messages are handed to the network; the protocols hand them over
 * in time order, phase by phase.
 */
import { DECODE_MS_PER_KB, DETECT_DEAD_MS, FRAME_CPU_MS, GOSSIP_COPIES_IN, GOSSIP_FORWARDS_OUT, GOSSIP_OVERHEAD_B, LAN_LATENCY_MS, NIC_BPS, RETRANSMIT_MS, SIGN_MS, TRANSPORT_OVERHEAD_B, VERIFY_MS } from './constants.ts'
import type { Ledger } from './ledger.ts'
import type { Random } from '../../lib/random.ts'
import type { World } from './world.ts'

/** A delivery that did not happen: the receiver was down (the sender learns DETECT_DEAD_MS later). */
export const LOST = -1

export interface SendCost {
  /** Extra CPU at the receiver beyond frame handling and decoding (signature checks, hashing). */
  receiverMs?: number
  /** Extra CPU at the sender (signing, building). */
  senderMs?: number
}

export class Network {
  /** When each host crashed (Infinity while it runs). */
  readonly crashedAt: Float64Array

  readonly world: World
  readonly ledger: Ledger
  readonly rng: Random
  readonly loss: number

  constructor (world: World, ledger: Ledger, rng: Random, loss: number) {
    this.world = world; this.ledger = ledger; this.rng = rng; this.loss = loss
    this.crashedAt = new Float64Array(world.hostIds.length).fill(Infinity)
  }

  up (h: number, at: number): boolean {
    return at < this.crashedAt[h]!
  }

  latency (from: number, to: number): number {
    const w = this.world
    return w.latencyMs[w.hostDc[from]! * w.dcCount + w.hostDc[to]!]!
  }

  /**
   * One message over a direct stream: the sender's CPU, the wire, the
   * receiver's NIC and CPU queue. Returns when the receiver has handled it,
   * or LOST when either end is down by then.
   */
  direct (from: number, to: number, bytes: number, at: number, cost: SendCost = {}): number {
    const arrive = this.send(from, to, bytes, at, cost)
    return arrive === LOST ? LOST : this.receive(to, bytes, arrive, cost)
  }

  /**
   * The sending half of `direct`: the sender's CPU and the wire. Returns
   * when the frame reaches the receiver's NIC (LOST when the sender is
   * down). A protocol whose messages overlap in time hands the receiving
   * half to `receive` at that time, so each CPU queue gets its work in order.
   */
  send (from: number, to: number, bytes: number, at: number, cost: SendCost = {}): number {
    const l = this.ledger
    if (!this.up(from, at)) return LOST
    const sent = l.work(from, at, FRAME_CPU_MS + (cost.senderMs ?? 0))
    const wire = bytes + TRANSPORT_OVERHEAD_B
    l.msgsOut[from]!++; l.framesOut[from]!++; l.bytesOut[from]! += wire
    let arrive = sent + this.latency(from, to)
    if (this.loss > 0 && this.rng.next() < this.loss) arrive += RETRANSMIT_MS + 2 * this.latency(from, to)
    return arrive
  }

  /** The receiving half of `direct`: the receiver's NIC and CPU queue. Returns when it has handled the frame, or LOST. */
  receive (to: number, bytes: number, arrive: number, cost: SendCost = {}): number {
    const l = this.ledger
    const wire = bytes + TRANSPORT_OVERHEAD_B
    const nicStart = arrive > l.nicFreeAt[to]! ? arrive : l.nicFreeAt[to]!
    arrive = nicStart + wire * 8 / NIC_BPS * 1000
    l.nicFreeAt[to] = arrive
    if (!this.up(to, arrive)) return LOST
    l.msgsIn[to]!++; l.framesIn[to]!++; l.bytesIn[to]! += wire
    const done = l.work(to, arrive, FRAME_CPU_MS + wire / 1024 * DECODE_MS_PER_KB + (cost.receiverMs ?? 0))
    return this.up(to, done) ? done : LOST
  }

  /** When a sender that got LOST from `direct` at `at` knows the peer is gone. */
  detectDead (at: number): number {
    return at + DETECT_DEAD_MS
  }

  /**
   * A gossipsub publish to `subscribers` (the author among them: it gets no copy). Every
   * subscriber receives GOSSIP_COPIES_IN frames, checks the signature of
   * the first, forwards GOSSIP_FORWARDS_OUT; it has the message one hop
   * per mesh level after the author's flood publish reaches it. Fills
   * `doneAt` (when each subscriber handled it; LOST if down) when given.
   */
  flood (from: number, subscribers: ArrayLike<number>, bytes: number, at: number, doneAt?: Float64Array): number {
    const l = this.ledger
    if (!this.up(from, at)) return LOST
    const n = subscribers.length - 1
    const wire = bytes + GOSSIP_OVERHEAD_B + TRANSPORT_OVERHEAD_B
    const fanout = Math.min(n, GOSSIP_FORWARDS_OUT + 1)
    const sent = l.work(from, at, SIGN_MS + fanout * FRAME_CPU_MS)
    l.msgsOut[from]!++; l.framesOut[from]! += fanout; l.bytesOut[from]! += fanout * wire
    const copies = Math.min(GOSSIP_COPIES_IN, Math.max(1, n))
    const forwards = Math.min(GOSSIP_FORWARDS_OUT, Math.max(0, n - 1))
    const cpu = (copies + forwards) * FRAME_CPU_MS + VERIFY_MS + bytes / 1024 * DECODE_MS_PER_KB
    const hops = n <= GOSSIP_FORWARDS_OUT + 1 ? 1 : 1 + Math.ceil(Math.log(n) / Math.log(GOSSIP_FORWARDS_OUT))
    for (let i = 0; i < subscribers.length; i++) {
      const to = subscribers[i]!
      if (to === from) { if (doneAt !== undefined) doneAt[i] = LOST; continue }
      // The first copy comes over the author's direct link; later hops add a
      // LAN hop and a busy peer's handling each (its queue is not modelled).
      const arrive = sent + this.latency(from, to) + (hops - 1) * (LAN_LATENCY_MS + FRAME_CPU_MS) * (to % hops) / Math.max(1, hops - 1)
      if (!this.up(to, arrive)) { if (doneAt !== undefined) doneAt[i] = LOST; continue }
      l.msgsIn[to]!++; l.framesIn[to]! += copies; l.bytesIn[to]! += copies * wire
      l.framesOut[to]! += forwards; l.bytesOut[to]! += forwards * wire
      const done = l.work(to, arrive, cpu)
      if (doneAt !== undefined) doneAt[i] = this.up(to, done) ? done : LOST
    }
    return sent
  }
}
