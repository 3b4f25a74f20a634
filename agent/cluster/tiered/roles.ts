/**
 * This agent's view of the aggregator roles (lib/roles.ts), hashed once per
 * DC and epoch: where this host reports, and which peers aggregate for the
 * other DCs. Built from the member list alone (each member's `dc` in the
 * config), so a host needs no gossip to know where to send.
 */
import { createHash } from 'node:crypto'
import { aggregatorKeyText, aggregatorsByDc, type DcMember } from '../../../lib/roles.ts'
import { peerKadId } from '../../net/index.ts'

export interface RoleMember { host: string, peerId: string, dc?: string }

export class AggregatorRoles {
  private readonly cluster: string
  private readonly members: DcMember[]
  private readonly peers = new Map<string, string>()
  private readonly dcs = new Map<string, string>()
  private cached: { epoch: number, byDc: Map<string, string[]> } | undefined

  /** Throws when a member has no DC: the tiered dissemination needs every member's. */
  constructor (cluster: string, members: readonly RoleMember[]) {
    this.cluster = cluster
    const missing = members.filter(m => m.dc === undefined || m.dc === '').map(m => m.host)
    if (missing.length > 0) throw new Error(`dissemination "tiered" needs every member's dc in the config (members[].dc); missing for ${missing.slice(0, 5).join(', ')}${missing.length > 5 ? ', ...' : ''}`)
    this.members = members.map(m => ({ host: m.host, dc: m.dc!, kadId: peerKadId(m.peerId) }))
    for (const m of members) { this.peers.set(m.host, m.peerId); this.dcs.set(m.host, m.dc!) }
  }

  /** Rank 0 and the standbys of `dc` in `epoch`, in order. */
  ofDc (dc: string, epoch: number): string[] {
    return this.byDc(epoch).get(dc) ?? []
  }

  /** Every DC's ranking for `epoch`. */
  byDc (epoch: number): Map<string, string[]> {
    if (this.cached?.epoch !== epoch) {
      const keyOf = (dc: string): Uint8Array => createHash('sha256').update(aggregatorKeyText(this.cluster, dc, epoch)).digest()
      this.cached = { epoch, byDc: aggregatorsByDc(keyOf, this.members) }
    }
    return this.cached.byDc
  }

  peerOf (host: string): string | undefined {
    return this.peers.get(host)
  }

  dcOf (host: string): string | undefined {
    return this.dcs.get(host)
  }
}
