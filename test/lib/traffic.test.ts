import test from 'ava'
import { AddressBook, TrafficWindow } from '../../lib/traffic.ts'

const vms = [
  { id: 'a', addresses: ['fd00::a'] },
  { id: 'b', addresses: ['fd00:0:0:0::b'] }, // same address, another spelling
  { id: 'r', addresses: ['fd00::1:0'] } // on another host
]
const prefixes = [{ id: 'clients', prefix: '2001:db8::/32', dc: 'A' }, { id: 'clients-eu', prefix: '2001:db8:e000::/40', dc: 'B' }]

test('own VMs\' sends, external receives, and nothing counted twice', t => {
  const book = new AddressBook(vms, prefixes, ['a', 'b'])
  const w = new TrafficWindow({ alpha: 1 })
  const stats = w.update([
    { src: 'fd00::a', dst: 'fd00::b', bytes: 1000 }, // local -> local: counted once, by the sender
    { src: 'fd00::a', dst: 'fd00::1:0', bytes: 500 }, // local -> remote VM
    { src: 'fd00::1:0', dst: 'fd00::a', bytes: 700 }, // remote VM -> local: its host counts it
    { src: '2001:db8:e000::5', dst: 'fd00::b', bytes: 2000 }, // external -> local: counted here, longest prefix
    { src: 'fd00::b', dst: '2001:db8::9', bytes: 250 }, // local -> external
    { src: 'fd00::b', dst: 'fd99::1', bytes: 40 } // nobody we know
  ], 1000, book, ['a', 'b'])
  t.deepEqual(stats, { countedBytes: 3750, othersBytes: 700, unattributedBytes: 40 })
  t.deepEqual(w.digest(), {
    windowMs: 1000,
    vms: [
      { vm: 'a', peers: [{ peer: 'b', out: 8000, in: 0 }, { peer: 'r', out: 4000, in: 0 }], restOut: 0 },
      { vm: 'b', peers: [{ peer: 'clients-eu', out: 0, in: 16000 }, { peer: 'clients', out: 2000, in: 0 }], restOut: 0 }
    ]
  })
})

test('rates are smoothed, decay when traffic stops, and VMs that left are dropped', t => {
  const book = new AddressBook(vms, prefixes, ['a'])
  const w = new TrafficWindow({ alpha: 0.5 })
  w.update([{ src: 'fd00::a', dst: 'fd00::b', bytes: 1000 }], 1000, book, ['a'])
  w.update([], 1000, book, ['a'])
  t.is(w.digest().vms[0]!.peers[0]!.out, 4000)
  w.update([], 1000, book, [])
  t.deepEqual(w.digest().vms, [])
})

test('the digest keeps the top-K peers and sums the rest', t => {
  const many = Array.from({ length: 20 }, (_, i) => ({ id: `p${i}`, addresses: [`fd00::2:${i}`] }))
  const book = new AddressBook([...vms, ...many], [], ['a'])
  const w = new TrafficWindow({ alpha: 1, topK: 3 })
  w.update(many.map((p, i) => ({ src: 'fd00::a', dst: p.addresses[0]!, bytes: (i + 1) * 100 })), 1000, book, ['a'])
  const d = w.digest().vms[0]!
  t.deepEqual(d.peers.map(p => p.peer), ['p19', 'p18', 'p17'])
  t.is(d.restOut, (1 + 17) * 17 / 2 * 800)
})
