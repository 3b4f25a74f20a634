/** Which members serve the DHT, from the member list alone, and what each host dials at start. */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import test from 'ava'
import { BOUNDED_QUERY_SELF_MS, dhtPlan, ownAddressProblem } from '../../../agent/cluster/dht-servers.ts'
import { parseConfig, type Member } from '../../../agent/config.ts'
import { ValidationError } from '../../../lib/errors.ts'
import { minimalConfig } from '../../config-fixture.ts'

async function members (perDc: number, dcs: string[]): Promise<Member[]> {
  const out: Member[] = []
  for (const dc of dcs) {
    for (let i = 0; i < perDc; i++) {
      const peerId = peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString()
      out.push({ host: `${dc}${i}`, peerId, dc, addresses: [`/ip6/fd00::${out.length + 1}/tcp/4001`] })
    }
  }
  return out
}

test('perDc members of each DC serve, the same ones for every host; servers dial the other servers, clients their own DC\'s', async t => {
  const all = await members(5, ['a', 'b', 'c'])
  const plans = all.map(m => dhtPlan({ cluster: 'c1', host: m.host, members: all, bootstrap: [], dhtServersPerDc: 2 }))
  const servers = [...plans[0]!.servers].sort()
  t.is(servers.length, 6)
  for (const dc of ['a', 'b', 'c']) t.is(servers.filter(h => h.startsWith(dc)).length, 2, `two servers in ${dc}`)
  for (const p of plans) t.deepEqual([...p.servers].sort(), servers, 'every host computes the same servers')
  all.forEach((m, i) => {
    const p = plans[i]!
    t.is(p.dhtClient, !servers.includes(m.host), m.host)
    const dialled = all.filter(o => p.bootstrap.some(a => a.endsWith(`/p2p/${o.peerId}`))).map(o => o.host).sort()
    const expected = servers.filter(h => h !== m.host && (!p.dhtClient || h.startsWith(m.dc!)))
    t.deepEqual(dialled, expected, `${m.host} dials ${expected.join(',')}`)
    t.is(p.known.length, all.length, 'every member\'s addresses go in the peer store')
    t.is(p.querySelfInterval, BOUNDED_QUERY_SELF_MS, 'the inventory names every member: the DHT looks for new ones rarely')
  })
})

test('without a bound every member serves and the bootstrap list is the config\'s', async t => {
  const all = await members(3, ['a', 'b'])
  const p = dhtPlan({ cluster: 'c1', host: 'a0', members: all, bootstrap: ['/ip6/fd00::9/tcp/4001/p2p/x'] })
  t.false(p.dhtClient)
  t.is(p.servers.size, all.length)
  t.deepEqual(p.bootstrap, ['/ip6/fd00::9/tcp/4001/p2p/x'])
  t.is(p.querySelfInterval, undefined, 'no inventory: the self-query finds the members, as tuned')
})

test('a config with dhtServersPerDc names each member missing its addresses or DC', t => {
  const config = minimalConfig({ dhtServersPerDc: 1, members: [{ host: 'h1', peerId: 'p1', dc: 'A', addresses: ['/ip6/fd00::1/tcp/4001'] }, { host: 'h2', peerId: 'p2' }] })
  const err = t.throws(() => parseConfig(config), { instanceOf: ValidationError })
  t.deepEqual(err.issues.map(i => i.path).sort(), ['members[1].addresses', 'members[1].dc'])
  t.notThrows(() => parseConfig(minimalConfig({ dhtServersPerDc: 1, members: [{ host: 'h1', peerId: 'p1', dc: 'A', addresses: ['/ip6/fd00::1/tcp/4001'] }] })))
})

test('a host whose listed address is none of those it listens on is told so at start; a listed one, with or without its /p2p part, is fine', t => {
  const listening = ['/ip6/fd00::7/tcp/4001/p2p/12D3KooWself', '/ip6/::1/tcp/4001/p2p/12D3KooWself']
  t.is(ownAddressProblem({ addresses: ['/ip6/fd00::7/tcp/4001/p2p/12D3KooWself'] }, listening), undefined)
  t.is(ownAddressProblem({ addresses: ['/ip6/fd00::7/tcp/4001'] }, listening), undefined)
  t.is(ownAddressProblem({}, listening), undefined, 'no inventory entry, nothing to check')
  t.regex(ownAddressProblem({ addresses: ['/ip6/fd00::7/tcp/4002'] }, listening) ?? '', /none of those it listens on/)
})
