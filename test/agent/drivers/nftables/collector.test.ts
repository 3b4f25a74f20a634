/**
 * The nftables collector against real traffic in network namespaces (see
 * netns.ts for the lab). Needs root, ip and nft; skipped without them.
 */
import { NftablesCollector } from '../../../../agent/drivers/nftables/collector.ts'
import { CollectorError, type CollectorSample } from '../../../../agent/drivers/types.ts'
import { requires } from '../../../prerequisites.ts'
import { buildLab, l3Bytes, Namespaces, nftBinary, run, sendUdp, type Lab } from './netns.ts'

const FILE = 'test/agent/drivers/nftables/collector.test.ts'
const test = await requires(FILE, 'root', 'iproute2', 'nftables', 'nf_tables', 'netns')
/** br_netfilter is a kernel module: the bootstrap cannot install it, so without it this test only skips. */
const brTest = await requires(FILE, 'root', 'iproute2', 'nftables', 'nf_tables', 'netns', 'br_netfilter')

function bytesOf (s: CollectorSample, src: string, dst: string): number {
  return s.deltas.filter(d => d.src === src && d.dst === dst).reduce((a, d) => a + d.bytes, 0)
}

function within1pct (actual: number, expected: number): boolean {
  return Math.abs(actual - expected) <= expected * 0.01
}

function collectorFor (lab: Lab, host: 'A' | 'B', table: string, extra: Partial<ConstructorParameters<typeof NftablesCollector>[0]> = {}): NftablesCollector {
  return new NftablesCollector({}, {
    netns: host === 'A' ? lab.hostA : lab.hostB,
    table,
    // hostA bridges its VMs and routes to hostB and ext: both hooks.
    hooks: ['bridge', 'inet'],
    localAddresses: host === 'A' ? [lab.addr.vmA1, lab.addr.vmA2] : [lab.addr.vmB1],
    platformPrefixes: lab.platform,
    ...extra
  })
}

test('bridged, cross-host and external flows are each counted once in the cluster, at their IPv6 length', async t => {
  t.timeout(60_000)
  const lab = await buildLab(t)
  const a = collectorFor(lab, 'A', 'htnft_a')
  const b = collectorFor(lab, 'B', 'htnft_b')
  // The default hook alone, next to it: sees the bridged flows only (routed ones take the inet hook).
  const bridgeOnly = collectorFor(lab, 'A', 'htnft_abr', { hooks: undefined }) // undefined: the default
  t.teardown(async () => { await a.stop().catch(() => {}); await b.stop().catch(() => {}); await bridgeOnly.stop().catch(() => {}) })
  await a.start()
  await b.start()
  await bridgeOnly.start()
  t.deepEqual(await a.read(1000), { deltas: [], windowMs: 0, uncountedBytes: 0 }, 'the first read is the baseline')
  await b.read(1000)
  await bridgeOnly.read(1000)

  const { vmA1, vmA2, vmB1, ext } = lab.addr
  // [from namespace, from address, to address, payload, datagrams]: distinct sizes so a mix-up shows.
  const flows: Array<[string, string, string, string, number, number]> = [
    ['bridged A1->A2', lab.vmA1, vmA1, vmA2, 1000, 300],
    ['bridged A2->A1', lab.vmA2, vmA2, vmA1, 200, 150],
    ['cross-host A1->B1', lab.vmA1, vmA1, vmB1, 1200, 250],
    ['cross-host B1->A2', lab.vmB1, vmB1, vmA2, 700, 200],
    ['external A1->ext', lab.vmA1, vmA1, ext, 1400, 200],
    ['external ext->A2', lab.ext, ext, vmA2, 500, 220],
    ['external ext->B1', lab.ext, ext, vmB1, 900, 120]
  ]
  const sent = new Map<string, number>()
  for (const [label, ns, , to, size, count] of flows) sent.set(label, l3Bytes(size, await sendUdp(ns, to, size, count)))

  const sa = await a.read(3000)
  const sb = await b.read(3500)
  t.is(sa.windowMs, 2000)
  t.is(sb.windowMs, 2500)
  t.is(sa.uncountedBytes, 0)
  t.is(sb.uncountedBytes, 0)
  // Who must count each flow: the sender's host, and for external traffic the VM's host.
  const counter: Record<string, 'A' | 'B'> = {
    'bridged A1->A2': 'A', 'bridged A2->A1': 'A', 'cross-host A1->B1': 'A', 'cross-host B1->A2': 'B',
    'external A1->ext': 'A', 'external ext->A2': 'A', 'external ext->B1': 'B'
  }
  for (const [label, , src, dst] of flows) {
    const expected = sent.get(label)!
    const mine = counter[label] === 'A' ? sa : sb
    const other = counter[label] === 'A' ? sb : sa
    const got = bytesOf(mine, src, dst)
    t.log(`${label}: expected ${expected} B, host ${counter[label]} counted ${got} B (${((got - expected) / expected * 100).toFixed(3)}%), other host ${bytesOf(other, src, dst)} B`)
    t.true(within1pct(got, expected), `${label}: ${got} vs ${expected}`)
    // Static neighbours and no DAD: nothing but the datagrams crosses, so the count is exact.
    t.is(got, expected, `${label} counts IPv6 header + UDP header + payload`)
    t.is(bytesOf(other, src, dst), 0, `${label} is not counted by the other host`)
  }
  t.is(sa.deltas.length + sb.deltas.length, flows.length, 'no other pair was counted')
  const bridged = await bridgeOnly.read(3000)
  t.deepEqual(bridged.deltas.map(d => `${d.src} ${d.dst} ${d.bytes}`).sort(),
    [`${vmA1} ${vmA2} ${sent.get('bridged A1->A2')!}`, `${vmA2} ${vmA1} ${sent.get('bridged A2->A1')!}`].sort())

  // Nothing new: no deltas, though the entries are still in the set.
  t.deepEqual((await a.read(4000)).deltas, [])

  // A VM that left hostA: what it sends is no longer counted there.
  await a.setLocalAddresses([vmA1])
  await sendUdp(lab.vmA2, vmA1, 100, 50)
  await sendUdp(lab.vmA1, vmA2, 100, 40)
  const after = await a.read(5000)
  t.is(bytesOf(after, vmA2, vmA1), 0)
  t.is(bytesOf(after, vmA1, vmA2), l3Bytes(100, 40))
})

test('a full set counts what it could not place as uncountedBytes, and pairs already in it keep counting', async t => {
  t.timeout(60_000)
  const lab = await buildLab(t)
  // One pair per family's set: the bridge set and the inet set each fill with their first pair.
  const a = collectorFor(lab, 'A', 'htnft_full', { setSize: 1 })
  t.teardown(async () => { await a.stop().catch(() => {}) })
  await a.start()
  await a.read(0)
  const { vmA1, vmA2, ext } = lab.addr
  await sendUdp(lab.vmA1, vmA2, 300, 40) // bridged
  await sendUdp(lab.vmA1, ext, 400, 30) // routed
  const s1 = await a.read(1000)
  t.is(bytesOf(s1, vmA1, vmA2), l3Bytes(300, 40))
  t.is(bytesOf(s1, vmA1, ext), l3Bytes(400, 30))
  t.is(s1.uncountedBytes, 0)

  await sendUdp(lab.vmA2, vmA1, 500, 20) // bridged, no room
  await sendUdp(lab.vmA2, ext, 600, 25) // routed, no room
  await sendUdp(lab.vmA1, vmA2, 300, 10) // already in the set
  const s2 = await a.read(2000)
  t.is(bytesOf(s2, vmA1, vmA2), l3Bytes(300, 10), 'a pair in the set still counts when the set is full')
  t.is(bytesOf(s2, vmA2, vmA1), 0)
  t.is(bytesOf(s2, vmA2, ext), 0)
  t.is(s2.uncountedBytes, l3Bytes(500, 20) + l3Bytes(600, 25), 'the pairs that did not fit are reported as uncounted')
})

test('a pair that expires is forgotten, and when it comes back it counts from zero', async t => {
  t.timeout(60_000)
  const lab = await buildLab(t)
  const a = collectorFor(lab, 'A', 'htnft_exp', { entryTimeoutSec: 1 })
  t.teardown(async () => { await a.stop().catch(() => {}) })
  await a.start()
  await a.read(0)
  const { vmA1, vmA2 } = lab.addr
  await sendUdp(lab.vmA1, vmA2, 1000, 60)
  await sendUdp(lab.vmA2, vmA1, 1000, 60)
  const s1 = await a.read(1000)
  t.is(bytesOf(s1, vmA1, vmA2), l3Bytes(1000, 60))
  t.is(bytesOf(s1, vmA2, vmA1), l3Bytes(1000, 60))
  await new Promise(resolve => setTimeout(resolve, 2200))
  // Both entries expired. One pair comes back with fewer bytes than the collector saw before:
  // a lower counter is a fresh one; the other pair is simply gone.
  await sendUdp(lab.vmA1, vmA2, 100, 10)
  const s2 = await a.read(4000)
  t.deepEqual(s2.deltas, [{ src: vmA1, dst: vmA2, bytes: l3Bytes(100, 10) }])
})

test('start is idempotent, recreates a leftover table, and stop removes it', async t => {
  t.timeout(30_000)
  const ns = new Namespaces(t)
  const host = await ns.add('host')
  await ns.keepBridgedOutOfInet(host)
  const nft = await nftBinary()
  const list = (): Promise<string> => run(['ip', 'netns', 'exec', host, nft, 'list', 'tables'])
  const c = new NftablesCollector({}, { netns: host, table: 'htnft_idem', hooks: ['bridge', 'inet'] })
  await c.start()
  await c.start()
  t.regex(await list(), /table bridge htnft_idem/)
  t.regex(await list(), /table inet htnft_idem/)
  // A second agent (or one restarted after a crash) takes the table over.
  const again = new NftablesCollector({}, { netns: host, table: 'htnft_idem', hooks: ['bridge', 'inet'] })
  await again.start()
  await again.stop()
  t.notRegex(await list(), /htnft_idem/)
  await c.stop()
  await c.stop()
  t.notRegex(await list(), /htnft_idem/)
})

brTest('with br_netfilter handing bridged IPv6 to the inet hooks, counting on both hooks is refused', async t => {
  t.timeout(60_000)
  const lab = await buildLab(t)
  await lab.ns.sysctl(lab.hostA, 'net.bridge.bridge-nf-call-ip6tables', '1')
  const both = collectorFor(lab, 'A', 'htnft_brnf')
  t.teardown(async () => { await both.stop().catch(() => {}) })
  await t.throwsAsync(both.start(), { instanceOf: CollectorError, message: /counted twice/ })
  // Why: an inet-only collector now sees bridged VM-to-VM traffic too.
  const inet = collectorFor(lab, 'A', 'htnft_brnf', { hooks: ['inet'] })
  t.teardown(async () => { await inet.stop().catch(() => {}) })
  await inet.start()
  await inet.read(0)
  await sendUdp(lab.vmA1, lab.addr.vmA2, 100, 10)
  t.is(bytesOf(await inet.read(1), lab.addr.vmA1, lab.addr.vmA2), l3Bytes(100, 10))
})
