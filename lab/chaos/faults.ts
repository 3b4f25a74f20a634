/**
 * The faults a chaos run injects, as a seeded schedule and the state the
 * agents' wrapped nodes consult (faulty-node.ts): lost messages, partitions
 * between DCs. Kills, restarts, skew and slow or failing migrations are
 * applied by the runner; this file keeps who is cut off from whom.
 */
import type { Random } from '../../lib/random.ts'
import type { NodeFaults } from './faulty-node.ts'

export const FAULT_KINDS = ['kill', 'restart', 'skewed-restart', 'message-loss', 'partition', 'slow-migration', 'failing-migration'] as const
export type FaultKind = typeof FAULT_KINDS[number]

/** Shared by all agents of a run: which DCs are cut off and how lossy each host's inbox is. */
export class FaultState {
  /** DC -> the DCs it cannot reach. */
  private readonly cut = new Map<string, Set<string>>()
  private readonly lossRate = new Map<string, number>()
  private readonly dcOfPeer = new Map<string, string>()
  private readonly hostOfPeer = new Map<string, string>()
  private readonly dcOfHost: Map<string, string>
  private readonly rng: Random
  lost = 0

  constructor (rng: Random, hosts: ReadonlyArray<{ host: string, dc: string }>) {
    this.rng = rng
    this.dcOfHost = new Map(hosts.map(h => [h.host, h.dc]))
  }

  /** Peer ids are known once the agents' keys exist. */
  learnPeer (host: string, peerId: string): void {
    const dc = this.dcOfHost.get(host)
    if (dc !== undefined) this.dcOfPeer.set(peerId, dc)
    this.hostOfPeer.set(peerId, host)
  }

  partition (dc: string, others: string[]): void {
    for (const o of others) {
      this.cut.set(dc, new Set([...(this.cut.get(dc) ?? []), o]))
      this.cut.set(o, new Set([...(this.cut.get(o) ?? []), dc]))
    }
  }

  heal (): void {
    this.cut.clear()
  }

  setLoss (host: string, rate: number): void {
    if (rate > 0) this.lossRate.set(host, rate); else this.lossRate.delete(host)
  }

  clearLoss (): void {
    this.lossRate.clear()
  }

  private blocked (a: string | undefined, b: string | undefined): boolean {
    return a !== undefined && b !== undefined && this.cut.get(a)?.has(b) === true
  }

  /** The faults one agent's node suffers (see faulty-node.ts). */
  forHost (host: string): NodeFaults {
    const dc = this.dcOfHost.get(host)
    return {
      dropGossip: (_topic: string, fromPeer: string) => {
        const drop = this.blocked(dc, this.dcOfPeer.get(fromPeer)) || this.rng.next() < (this.lossRate.get(host) ?? 0)
        if (drop) this.lost++
        return drop
      },
      cutOff: (peer: string) => {
        const other = this.hostOfPeer.get(peer)
        return other !== undefined && this.blocked(dc, this.dcOfHost.get(other)) ? other : undefined
      }
    }
  }
}
