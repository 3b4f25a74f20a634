/**
 * Peers on probation (docs/design.md §3.7): the gater lets a peer that is
 * not a member connect in, so that a new host can present its invitation;
 * one not admitted within the bound has its connections closed and is
 * named in a warning (a host stranded without knowing why was the problem
 * of issue 18). It may connect again: a host whose invitation is not valid
 * yet keeps trying.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { Logger } from '../log.ts'
import type { ClusterNode } from '../net/index.ts'
import type { PeerId } from '@libp2p/interface'

export interface ProbationComponents {
  node: ClusterNode
  log: Logger
  allowed: (peerId: string) => boolean
  boundMs: number
}

export class Probation {
  private readonly c: ProbationComponents
  private readonly timers = new Map<string, NodeJS.Timeout>()
  private readonly onConnect: (evt: CustomEvent<PeerId>) => void

  constructor (components: ProbationComponents) {
    this.c = components
    this.onConnect = (evt) => { this.connected(evt.detail.toString()) }
    components.node.libp2p.addEventListener('peer:connect', this.onConnect)
    // Peers that connected before we listened (the node starts before the agent).
    for (const conn of components.node.libp2p.getConnections()) this.connected(conn.remotePeer.toString())
  }

  private connected (peer: string): void {
    if (this.c.allowed(peer) || this.timers.has(peer)) return
    this.c.log.info('a peer that is not a member connected: on probation until it presents a valid invitation', { peer, boundMs: this.c.boundMs })
    this.timers.set(peer, setTimeout(() => {
      this.timers.delete(peer)
      if (this.c.allowed(peer)) return
      this.c.log.warn('refused a peer: not a member, and not admitted within the probation bound; closing its connections', { peer, boundMs: this.c.boundMs })
      this.c.node.libp2p.hangUp(peerIdFromString(peer)).catch(() => {})
    }, this.c.boundMs))
  }

  stop (): void {
    this.c.node.libp2p.removeEventListener('peer:connect', this.onConnect)
    for (const t of this.timers.values()) clearTimeout(t)
    this.timers.clear()
  }
}
