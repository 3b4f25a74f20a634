import test from 'ava'
import { parseTable } from '../../../../agent/drivers/nftables/parse.ts'
import { CollectorError } from '../../../../agent/drivers/types.ts'

// Trimmed from `nft -j list table bridge heliotrope` (nftables 1.0.6).
const listing = {
  nftables: [
    { metainfo: { version: '1.0.6', release_name: 'Lester Gooch #5', json_schema_version: 1 } },
    { table: { family: 'bridge', name: 'heliotrope', handle: 2 } },
    { counter: { family: 'bridge', name: 'uncounted', table: 'heliotrope', handle: 3, packets: 2, bytes: 1096 } },
    { set: { family: 'bridge', name: 'local', table: 'heliotrope', type: 'ipv6_addr', handle: 4, flags: ['interval'], elem: [{ prefix: { addr: 'fd00:a::', len: 64 } }] } },
    {
      set: {
        family: 'bridge', name: 'flows', table: 'heliotrope', type: ['ipv6_addr', 'ipv6_addr'], handle: 6, size: 65536, flags: ['timeout'], timeout: 3600,
        elem: [
          { elem: { val: { concat: ['fd00:a::11', 'fd00:a::12'] }, expires: 3599, counter: { packets: 300, bytes: 314400 } } },
          { elem: { val: { concat: ['fd00:a::12', 'fd00:e::1'] }, expires: 12, counter: { packets: 1, bytes: 60 } } }
        ],
        stmt: [{ counter: null }]
      }
    },
    { chain: { family: 'bridge', table: 'heliotrope', name: 'count', handle: 1 } }
  ]
}

test('reads the pairs with their byte counters and the uncounted counter', t => {
  t.deepEqual(parseTable(listing, 'flows', 'uncounted'), {
    pairs: [
      { src: 'fd00:a::11', dst: 'fd00:a::12', bytes: 314400, packets: 300 },
      { src: 'fd00:a::12', dst: 'fd00:e::1', bytes: 60, packets: 1 }
    ],
    uncountedBytes: 1096
  })
})

test('an empty set has no "elem" at all', t => {
  const empty = structuredClone(listing)
  delete (empty.nftables[4]!.set as { elem?: unknown }).elem
  t.deepEqual(parseTable(empty, 'flows', 'uncounted').pairs, [])
})

test('refuses what it cannot trust', t => {
  const broken = (patch: (doc: typeof listing) => void): unknown => { const d = structuredClone(listing); patch(d); return d }
  const cases: Array<[unknown, RegExp]> = [
    [{}, /no "nftables" array/],
    [{ nftables: listing.nftables.filter(i => !('set' in i && i.set?.name === 'flows')) }, /set flows missing/],
    [{ nftables: listing.nftables.filter(i => !('counter' in i)) }, /counter uncounted missing/],
    [broken(d => { (d.nftables[4] as { set: { elem: unknown[] } }).set.elem[0] = { elem: { val: 'fd00::1', counter: { packets: 1, bytes: 1 } } } }), /not an address pair/],
    [broken(d => { (d.nftables[4] as { set: { elem: unknown[] } }).set.elem[0] = { elem: { val: { concat: ['fd00::1', 'fd00::2'] } } } }), /without counter/],
    [broken(d => { (d.nftables[4] as { set: { elem: unknown[] } }).set.elem[0] = { elem: { val: { concat: ['fd00::1', 'fd00::2'] }, counter: { packets: 1, bytes: -5 } } } }), /not a counter value/]
  ]
  for (const [doc, message] of cases) t.throws(() => parseTable(doc, 'flows', 'uncounted'), { instanceOf: CollectorError, message })
})
