/**
 * This host's traffic digest: what the collector counted since the last
 * read, attributed to the cluster's VMs as the view knows them, sent every
 * round (it is also what keeps the host live in the others' views).
 */
import { AddressBook, TrafficWindow } from '../../lib/traffic.ts'
import type { TrafficCollector } from '../drivers/types.ts'
import type { Outbox } from './outbox.ts'
import type { TopologySwitch } from './topology-switch.ts'
import type { ClusterContext } from './types.ts'

export interface DigestComponents extends ClusterContext {
  collector: TrafficCollector
  outbox: Outbox
  /** The topology run now: its external prefixes name traffic to the outside. */
  topology: Pick<TopologySwitch, 'topology'>
}

export class Digests {
  private readonly c: DigestComponents
  private readonly window = new TrafficWindow()

  constructor (components: DigestComponents) {
    this.c = components
  }

  /** True when a digest went out (none does for the collector's first, empty window). */
  async publish (round: number): Promise<boolean> {
    const { view, host, counters, log } = this.c
    const now = this.c.now()
    const sample = await this.c.collector.read(now)
    if (sample.uncountedBytes > 0) {
      // Not an error (the set is bounded on purpose), but the digest is short by this much: say so.
      counters.uncountedBytes += sample.uncountedBytes
      log.warn('traffic not counted by pair this window (collector set full)', { bytes: sample.uncountedBytes, totalBytes: counters.uncountedBytes })
    }
    const mine = view.member(host)?.state?.vms.map(v => v.id) ?? []
    const all = view.members().flatMap(m => m.state?.vms ?? [])
    const book = new AddressBook(all, this.c.topology.topology.prefixes, mine)
    this.window.update(sample.deltas, sample.windowMs, book, mine)
    if (sample.windowMs <= 0) return false
    await this.c.outbox.send(this.c.outbox.envelope('traffic', round, this.window.digest()))
    return true
  }
}
