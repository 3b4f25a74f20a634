/**
 * The `sim` traffic source: reads the SimWorld's traffic model and reports,
 * for the VMs on this host, the bytes that model says they sent (and, from
 * external prefixes, received) since the previous read, addressed the way a
 * real collector would see them.
 */
import { formatIpv6, parseIpv6Prefix } from '../../../lib/address.ts'
import type { CollectorSample, CounterDelta, TrafficCollector } from '../../../agent/drivers/types.ts'
import { SimWorld } from './world.ts'

export class SimCollector implements TrafficCollector {
  readonly name = 'sim'
  private readonly world: SimWorld
  private readonly host: string
  private lastMs: number | undefined

  /** `world`: the world's directory, or a SimWorld to share (lab/sim/shared-world.ts). */
  constructor (components: { host: string }, init: { world: string | SimWorld }) {
    this.world = typeof init.world === 'string' ? new SimWorld(init.world) : init.world
    this.host = components.host
  }

  async start (): Promise<void> {}
  async stop (): Promise<void> {}

  async read (nowMs: number): Promise<CollectorSample> {
    const windowMs = this.lastMs === undefined ? 0 : nowMs - this.lastMs
    this.lastMs = nowMs
    if (windowMs <= 0) return { deltas: [], windowMs: 0, uncountedBytes: 0 }
    const [vms, traffic] = await Promise.all([this.world.vms(), this.world.traffic()])
    const addr = new Map<string, string>()
    for (const v of vms) if (v.addresses[0] !== undefined) addr.set(v.id, v.addresses[0])
    for (const p of traffic.prefixes) {
      const parsed = parseIpv6Prefix(p.prefix)
      if (parsed !== undefined) { const g = [...parsed.groups]; g[7] = 1; addr.set(p.id, formatIpv6(g)) }
    }
    const local = new Set(vms.filter(v => v.host === this.host).map(v => v.id))
    const prefixes = new Set(traffic.prefixes.map(p => p.id))
    const deltas: CounterDelta[] = []
    for (const f of traffic.flows) {
      const ours = local.has(f.src) || (prefixes.has(f.src) && local.has(f.dst))
      const src = addr.get(f.src); const dst = addr.get(f.dst)
      if (ours && src !== undefined && dst !== undefined) deltas.push({ src, dst, bytes: Math.round(f.bps * windowMs / 8000) })
    }
    return { deltas, windowMs, uncountedBytes: 0 }
  }
}
