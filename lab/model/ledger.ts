/**
 * Per host and round: messages, frames and bytes in and out, CPU spent, and
 * the CPU queue (a host works through what arrives one message at a time,
 * so a busy host delays what comes after). Typed arrays, because at 10,000
 * hosts the flooding protocol charges 10^8 deliveries a round.
 */

/** The spread of one-way latencies between DCs (the scenario's links: 10-150 ms), rounded up. */
export const MAX_REORDER_MS = 200

export class Ledger {
  /** Application messages (a flooded message counts once however many copies came). */
  readonly msgsIn: Float64Array
  readonly msgsOut: Float64Array
  /** Frames on the wire: duplicates of flooded messages count. */
  readonly framesIn: Float64Array
  readonly framesOut: Float64Array
  readonly bytesIn: Float64Array
  readonly bytesOut: Float64Array
  readonly cpuMs: Float64Array
  /** When the host's CPU is free again (absolute model time, ms). */
  readonly busyUntil: Float64Array
  /** When the host's NIC has received what is already on its way. */
  readonly nicFreeAt: Float64Array

  readonly size: number

  constructor (size: number) {
    this.size = size
    this.msgsIn = new Float64Array(size)
    this.msgsOut = new Float64Array(size)
    this.framesIn = new Float64Array(size)
    this.framesOut = new Float64Array(size)
    this.bytesIn = new Float64Array(size)
    this.bytesOut = new Float64Array(size)
    this.cpuMs = new Float64Array(size)
    this.busyUntil = new Float64Array(size)
    this.nicFreeAt = new Float64Array(size)
  }

  /** Zeroes the counters for a new round; the CPU queue carries over (a backlog is a backlog). */
  resetCounts (): void {
    for (const a of [this.msgsIn, this.msgsOut, this.framesIn, this.framesOut, this.bytesIn, this.bytesOut, this.cpuMs]) a.fill(0)
  }

  /**
   * Runs `ms` of work on host h arriving at `at`: returns when it is done.
   * Protocols hand messages over phase by phase, so a host may be handed a
   * message from a far DC before one from its own that arrives earlier. A
   * busy host is exact (the backlog grows by the work); an idle host's
   * queue is anchored at most MAX_REORDER_MS before the arrival, so a far
   * message cannot block nearer ones handed after it. The cost: arrivals
   * closer together than their work on an idle host queue a little less.
   */
  work (h: number, at: number, ms: number): number {
    const busy = this.busyUntil[h]!
    const queued = (busy > at - MAX_REORDER_MS ? busy : at - MAX_REORDER_MS) + ms
    this.busyUntil[h] = queued
    this.cpuMs[h]! += ms
    return queued > at + ms ? queued : at + ms
  }

  /** CPU that does not queue behind messages (idle upkeep spread over the round). */
  background (h: number, ms: number): void {
    this.cpuMs[h]! += ms
  }
}
