import { peerIdFromString } from '@libp2p/peer-id'
import { multiaddr } from '@multiformats/multiaddr'
import test from 'ava'
import { clusterAddressFilter, clusterPeerInfoMapper } from '../../../agent/net/addresses.ts'
import { makeMembers } from './cluster.ts'

test('the DHT keeps loopback, ULA, memory and configured prefixes, and drops the rest', t => {
  const keep = clusterAddressFilter(['2001:db8:42::/48'])
  const yes = ['/ip6/::1/tcp/4001', '/ip6/fd12:3456::7/tcp/4001', '/ip6/fc00::1/tcp/1', '/memory/agent-7',
    '/ip4/127.0.0.1/tcp/4001', '/ip6/2001:db8:42:1::5/tcp/4001']
  const no = ['/ip6/2001:db8:43::5/tcp/4001', '/ip6/2606:4700::1111/tcp/4001', '/ip6/fe80::1/tcp/4001',
    '/ip4/10.0.0.1/tcp/4001', '/ip4/8.8.8.8/tcp/4001', '/dns6/example.com/tcp/4001', '/ip6/::/tcp/4001']
  for (const a of yes) t.true(keep(multiaddr(a)), a)
  for (const a of no) t.false(keep(multiaddr(a)), a)
  t.throws(() => clusterAddressFilter(['2001:db8::1/32']), { instanceOf: TypeError })
})

test('the mapper filters a peer\'s addresses and keeps its id', async t => {
  const [m] = await makeMembers(1)
  const id = peerIdFromString(m!.peerId)
  const mapped = clusterPeerInfoMapper()({ id, multiaddrs: [multiaddr('/ip6/::1/tcp/1'), multiaddr('/ip4/1.2.3.4/tcp/1')] })
  t.true(mapped.id.equals(id))
  t.deepEqual(mapped.multiaddrs.map(String), ['/ip6/::1/tcp/1'])
})
