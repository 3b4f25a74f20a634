/**
 * One in-memory copy of a SimWorld shared by every agent of an in-process
 * cluster. The sim drivers read the whole world directory on each list() and
 * read(): about 60 ms of CPU for 800 VM files (measured on this machine),
 * twice per agent per round, which alone would swamp hundreds of agents.
 * Here reads come from memory; writes still go to the directory first
 * (atomically, through SimWorld), so the directory stays the truth that
 * tests and tools read. Only valid while this process is the only writer.
 */
import { SimWorld, type SimTraffic, type SimVm } from '../drivers/sim-host/world.ts'

export class SharedSimWorld extends SimWorld {
  private cache: Map<string, SimVm> | undefined
  private sorted: SimVm[] | undefined
  private trafficCache: SimTraffic | undefined
  private failingCache: Set<string> | undefined

  override async init (vms: SimVm[], traffic: SimTraffic): Promise<void> {
    await super.init(vms, traffic)
    this.cache = new Map(vms.map(v => [v.id, Object.freeze({ ...v })]))
    this.sorted = undefined
  }

  private async loaded (): Promise<Map<string, SimVm>> {
    if (this.cache === undefined) this.cache = new Map((await super.vms()).map(v => [v.id, Object.freeze(v)]))
    return this.cache
  }

  override async vms (): Promise<SimVm[]> {
    const cache = await this.loaded()
    // The directory listing's order (file names), so both worlds list alike.
    this.sorted ??= [...cache.values()].sort((a, b) => fileKey(a.id) < fileKey(b.id) ? -1 : 1)
    return [...this.sorted]
  }

  override async vm (id: string): Promise<SimVm | undefined> {
    return (await this.loaded()).get(id)
  }

  override async write (vm: SimVm): Promise<void> {
    await super.write(vm)
    if (this.cache !== undefined) {
      this.cache.set(vm.id, Object.freeze({ ...vm }))
      this.sorted = undefined
    }
  }

  override async traffic (): Promise<SimTraffic> {
    this.trafficCache ??= await super.traffic()
    return this.trafficCache
  }

  override async setTraffic (traffic: SimTraffic): Promise<void> {
    await super.setTraffic(traffic)
    this.trafficCache = traffic
  }

  override async failing (): Promise<Set<string>> {
    this.failingCache ??= await super.failing()
    return this.failingCache
  }

  override async setFailing (ids: string[]): Promise<void> {
    await super.setFailing(ids)
    this.failingCache = new Set(ids)
  }
}

function fileKey (id: string): string {
  return `${encodeURIComponent(id)}.json`
}
