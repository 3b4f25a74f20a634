/**
 * A 2-DC lab with real traffic: the router's htb classes hold each WAN
 * direction at its capacity (throughput measured where the traffic lands,
 * within 10%), and the real nftables collector of each host, set up as the
 * lab's agents have it (bridge hook, the VM prefix as the platform), counts
 * exactly what the VMs sent: its per-pair bytes and the digest built from
 * them match the senders' own counts within 1%.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NftablesCollector } from '../../agent/drivers/nftables/collector.ts'
import { Nft } from '../../agent/drivers/nftables/nft.ts'
import type { CollectorSample } from '../../agent/drivers/types.ts'
import { AddressBook, TrafficWindow } from '../../lib/traffic.ts'
import { RouterCounters, rates } from '../../lab/net/counters.ts'
import { Lab } from '../../lab/net/lab.ts'
import { hostNs } from '../../lab/net/names.ts'
import { parseLabTopology } from '../../lab/net/topology.ts'
import { writeRates } from '../../lab/vm/rates.ts'
import { TrafficProcess } from '../../lab/vm/traffic-process.ts'
import { labScope, labTest } from './helpers.ts'

const test = await labTest('test/lab/shaping.test.ts')
const TOPOLOGY = fileURLToPath(new URL('../../lab/topologies/two-dc.json', import.meta.url))
const ETHERNET_HEADER = 14
const SETTLE_MS = 1_500
const MEASURE_MS = 4_000

const sleep = (ms: number): Promise<void> => new Promise(resolve => setTimeout(resolve, ms))

interface Count { bytes: number, packets: number, atMs: number }

/** Counts, at the receiver's input, what one sender's datagrams amount to; stamped when the read returns. */
async function countFrom (ns: string, src: string): Promise<() => Promise<Count>> {
  const nft = new Nft({ netns: ns })
  await nft.apply(`table inet measure {\n chain input { type filter hook input priority -10; policy accept; ip6 saddr ${src} counter; }\n}\n`)
  return async () => {
    const doc = await nft.json(['list', 'table', 'inet', 'measure']) as { nftables: Array<{ rule?: { expr: Array<{ counter?: { bytes: number, packets: number } }> } }> }
    const c = doc.nftables.flatMap(i => i.rule?.expr ?? []).find(e => e.counter !== undefined)!.counter!
    return { bytes: c.bytes, packets: c.packets, atMs: Date.now() }
  }
}

test('the router holds each WAN direction at its capacity, and the hosts\' collectors count what the VMs sent', async t => {
  t.timeout(90_000)
  const { prefix, dir } = await labScope(t)
  const topo = parseLabTopology(JSON.parse(await readFile(TOPOLOGY, 'utf8')))
  const lab = Lab.fromTopology(topo, { prefix, dir })
  await lab.start()
  const [v0, v1, w0] = await lab.addVms([
    { id: 'v0', host: 'dc0-h0', memoryMiB: 256, vcpus: 1 },
    { id: 'v1', host: 'dc0-h0', memoryMiB: 256, vcpus: 1 },
    { id: 'w0', host: 'dc1-h0', memoryMiB: 256, vcpus: 1 }
  ])
  const addr = { v0: v0!.addresses[0]!, v1: v1!.addresses[0]!, w0: w0!.addresses[0]!, clients: lab.externalAddress('clients') }
  const capacity = { up: topo.links.find(l => l.from === 'dc0')!.capacityBps, down: topo.links.find(l => l.from === 'dc1')!.capacityBps }

  // The collectors as the lab's agents configure them.
  const collectors = {
    dc0: new NftablesCollector({}, { netns: hostNs(prefix, 'dc0-h0'), hooks: ['bridge'], platformPrefixes: [topo.vmPrefix], localAddresses: [addr.v0, addr.v1] }),
    dc1: new NftablesCollector({}, { netns: hostNs(prefix, 'dc1-h0'), hooks: ['bridge'], platformPrefixes: [topo.vmPrefix], localAddresses: [addr.w0] })
  }
  for (const c of Object.values(collectors)) { await c.start(); await c.read(0) }

  // Twice the capacity each way over the WAN; same-host and same-DC external traffic beside it.
  const flows = [
    { src: 'v0', dst: 'w0', bps: 2 * capacity.up },
    { src: 'w0', dst: 'v0', bps: 3 * capacity.down },
    { src: 'v0', dst: 'v1', bps: 1_000_000 },
    { src: 'w0', dst: 'clients', bps: 500_000 },
    { src: 'clients', dst: 'w0', bps: 300_000 }
  ]
  const ratesFile = join(dir, 'rates.json')
  await writeRates(ratesFile, { version: 1, endpoints: addr, flows })
  const atW0 = await countFrom(w0!.ns, addr.v0)
  const atV0 = await countFrom(v0!.ns, addr.w0)
  const guests = [...[v0!, v1!, w0!].map(v => ({ ns: v.ns, id: v.id })), { ns: lab.externalNs('clients'), id: 'clients' }]
  const traffic = guests.map(g => new TrafficProcess({ ns: g.ns, id: g.id, ratesFile, statsFile: join(dir, `${g.id}.stats.json`), logFile: join(dir, `${g.id}.log`) }))
  const started = Date.now()
  t.teardown(async () => { await Promise.all(traffic.map(async p => p.stop())) })

  await sleep(SETTLE_MS)
  const router = new RouterCounters(lab.state.routerNs, lab.bridges(), lab.shapedLinks())
  const [r0, w0a, v0a] = await Promise.all([router.read(), atW0(), atV0()])
  await sleep(MEASURE_MS)
  const [r1, w0b, v0b] = await Promise.all([router.read(), atW0(), atV0()])
  // htb limits frames: the IPv6 packet plus the Ethernet header.
  const l2 = (a: Count, b: Count): number => ((b.bytes - a.bytes) + ETHERNET_HEADER * (b.packets - a.packets)) * 8 / ((b.atMs - a.atMs) / 1000)
  const up = l2(w0a, w0b); const down = l2(v0a, v0b)
  const routerRates = rates(r0, r1)
  t.log(`dc0->dc1: offered ${(flows[0]!.bps / 1e6).toFixed(2)} Mbit/s, limit ${(capacity.up / 1e6).toFixed(2)}, received ${(up / 1e6).toFixed(3)} Mbit/s (${((up / capacity.up - 1) * 100).toFixed(1)}%), router class ${(routerRates[0]!.carriedBps / 1e6).toFixed(3)}, dropped ${routerRates[0]!.droppedPps.toFixed(0)} pkt/s`)
  t.log(`dc1->dc0: offered ${(flows[1]!.bps / 1e6).toFixed(2)} Mbit/s, limit ${(capacity.down / 1e6).toFixed(2)}, received ${(down / 1e6).toFixed(3)} Mbit/s (${((down / capacity.down - 1) * 100).toFixed(1)}%), router class ${(routerRates[1]!.carriedBps / 1e6).toFixed(3)}, dropped ${routerRates[1]!.droppedPps.toFixed(0)} pkt/s`)
  t.true(Math.abs(up / capacity.up - 1) <= 0.1, `dc0->dc1 carried ${up} bit/s for a limit of ${capacity.up}`)
  t.true(Math.abs(down / capacity.down - 1) <= 0.1, `dc1->dc0 carried ${down} bit/s for a limit of ${capacity.down}`)

  // Stop the senders (they write their final counts), let the last datagrams land, then read the collectors.
  await Promise.all(traffic.map(async p => p.stop()))
  await sleep(300)
  const windowMs = Date.now() - started
  const samples: Record<'dc0' | 'dc1', CollectorSample> = { dc0: await collectors.dc0.read(windowMs), dc1: await collectors.dc1.read(windowMs) }
  for (const c of Object.values(collectors)) await c.stop()
  const sent = Object.fromEntries(await Promise.all(traffic.map(async p => [p.init.id, (await p.stats())!] as const)))
  const vms = [{ id: 'v0', addresses: [addr.v0] }, { id: 'v1', addresses: [addr.v1] }, { id: 'w0', addresses: [addr.w0] }]
  const prefixes = topo.externals.map(e => ({ id: e.id, prefix: e.prefix, dc: e.dc }))
  const digests = {
    dc0: digestOf(samples.dc0, vms, prefixes, ['v0', 'v1']),
    dc1: digestOf(samples.dc1, vms, prefixes, ['w0'])
  }
  // [host that counts it, src, dst]: senders count what their VMs send; external traffic also by the receiving VM's host.
  const expect: Array<['dc0' | 'dc1', keyof typeof addr, keyof typeof addr]> = [
    ['dc0', 'v0', 'w0'], ['dc0', 'v0', 'v1'], ['dc1', 'w0', 'v0'], ['dc1', 'w0', 'clients'], ['dc1', 'clients', 'w0']
  ]
  for (const [host, src, dst] of expect) {
    const bytesSent = sent[src]!.sent[addr[dst]]?.bytes ?? 0
    const counted = samples[host].deltas.filter(d => d.src === addr[src] && d.dst === addr[dst]).reduce((s, d) => s + d.bytes, 0)
    const other = samples[host === 'dc0' ? 'dc1' : 'dc0'].deltas.filter(d => d.src === addr[src] && d.dst === addr[dst]).reduce((s, d) => s + d.bytes, 0)
    const d = digests[host]
    const fromDigest = src === 'clients'
      ? (d.get(dst)?.get(src)?.in ?? 0) * samples[host].windowMs / 8000
      : (d.get(src)?.get(dst)?.out ?? 0) * samples[host].windowMs / 8000
    t.log(`${src}->${dst}: sent ${bytesSent} B; ${host}'s collector ${counted} B (${pct(counted, bytesSent)}), its digest ${Math.round(fromDigest)} B (${pct(fromDigest, bytesSent)}); the other host ${other} B`)
    t.true(bytesSent > 0, `${src} sent nothing to ${dst}`)
    t.true(Math.abs(counted - bytesSent) <= bytesSent * 0.01, `${src}->${dst}: counted ${counted} of ${bytesSent}`)
    t.true(Math.abs(fromDigest - bytesSent) <= bytesSent * 0.01, `${src}->${dst}: digest ${fromDigest} of ${bytesSent}`)
    t.is(other, 0, `${src}->${dst} counted by the other host too`)
  }
  t.is(samples.dc0.uncountedBytes + samples.dc1.uncountedBytes, 0)
})

/** The digest an agent would gossip after this one window: vm -> peer -> rates (bit/s). */
function digestOf (s: CollectorSample, vms: Array<{ id: string, addresses: string[] }>, prefixes: Array<{ id: string, prefix: string, dc: string }>, mine: string[]): Map<string, Map<string, { out: number, in: number }>> {
  const w = new TrafficWindow()
  w.update(s.deltas, s.windowMs, new AddressBook(vms, prefixes, mine), mine)
  return new Map(w.digest().vms.map(v => [v.vm, new Map(v.peers.map(p => [p.peer, { out: p.out, in: p.in }]))]))
}

function pct (got: number, want: number): string {
  return `${((got / want - 1) * 100).toFixed(3)}%`
}
