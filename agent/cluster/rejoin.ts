/**
 * Rejoining after isolation: a host with no connection at all dials its
 * bootstrap peers again. Joining dials them once, for 20 s; a host that got
 * no answer in that time (seen in the lab: 100 agents dialing one seed at
 * once, the last 40 of them left with no peer and no routing table) or that
 * lost every connection later would otherwise stay alone until a restart:
 * it cannot look anyone up through a DHT it holds no peer of. The same
 * holds for a host whose routing table is empty though it has connections.
 */
import type { Logger } from '../log.ts'
import type { ClusterNode } from '../net/index.ts'

export interface RejoinComponents {
  node: Pick<ClusterNode, 'bootstrap'> & { libp2p: { getConnections: () => unknown[], services: { dht: { routingTable: { size: number } } } } }
  log: Logger
  counters: { rejoins: number }
}

export class Rejoin {
  private readonly c: RejoinComponents
  private running: Promise<void> | undefined
  /** Ends an attempt in flight when the cluster stops: a stop must not wait out bootstrap's 20 s. */
  private readonly stopping = new AbortController()

  constructor (components: RejoinComponents) {
    this.c = components
  }

  /**
   * Dials the bootstrap peers again when this host holds no connection, or
   * no DHT server in its routing table (a DHT client connected only to its
   * aggregator or a migration's peer cannot look anything up). At most one
   * attempt at a time.
   */
  check (): void {
    if (this.running !== undefined || this.stopping.signal.aborted) return
    const alone = this.c.node.libp2p.getConnections().length === 0
    if (!alone && this.c.node.libp2p.services.dht.routingTable.size > 0) return
    this.c.counters.rejoins++
    this.c.log.warn(alone ? 'no connection to any peer: dialing the bootstrap peers again' : 'no DHT server in the routing table: dialing the bootstrap peers again')
    this.running = this.c.node.bootstrap({ signal: this.stopping.signal })
      .then(peers => { if (peers.length > 0) this.c.log.info('rejoined through bootstrap peers', { peers: peers.length }) })
      .catch(err => { this.c.log.warn('rejoining failed', { error: (err as Error).message }) })
      .finally(() => { this.running = undefined })
  }

  /** Ends an attempt in flight and makes no more; resolves once it is over. */
  async stop (): Promise<void> {
    this.stopping.abort()
    await this.running
  }

  /** Resolves once an attempt in flight is over. */
  async settled (): Promise<void> {
    await this.running
  }
}
