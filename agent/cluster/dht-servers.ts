/**
 * Which members serve the DHT, and what that makes of this host's node
 * (docs/design.md §9.8, "Bounded connections"). kad-dht's table of 64
 * buckets of 20 holds every member of a cluster below about a thousand, and
 * it dials each new contact: every host ends up connected to every other.
 * With `dhtServersPerDc` set, only that many members per DC serve (chosen
 * from the member list, lib/roles.ts dhtServers); the others are clients,
 * which no routing table holds and nobody dials for the DHT. Since clients
 * cannot be looked up, every member's addresses come from the config's
 * inventory, and the bootstrap peers follow from it: a server dials the
 * other servers, a client its own DC's.
 */
import { createHash } from 'node:crypto'
import { dhtServerKeyText, dhtServers } from '../../lib/roles.ts'
import type { Member } from '../config.ts'
import { peerKadId } from '../net/index.ts'

export interface DhtPlanInput {
  cluster: string
  host: string
  members: readonly Member[]
  bootstrap: readonly string[]
  dhtServersPerDc?: number | undefined
}

/**
 * With the bound, a member's DHT self-query runs every 10 minutes instead of
 * every minute (DEFAULT_DHT). The self-query finds new peers near our own
 * id; with an inventory the config names every member and its address, and
 * rejoin.ts dials the servers again when none is in the table, so it finds
 * nothing new. Each one is a dozen DHT requests (a stream each) from every
 * member to the servers: at 64 agents, 2 servers per DC, kad-dht's lookups
 * and the peer-store writes their answers cause were about a tenth of the
 * agents' CPU between plans (a profile of the rounds, docs/benchmarks.md).
 */
export const BOUNDED_QUERY_SELF_MS = 600_000

export interface DhtPlan {
  /** This host asks the DHT but serves no one. */
  dhtClient: boolean
  /** The hosts that serve the DHT (every member when no bound is set). */
  servers: ReadonlySet<string>
  /** Members' addresses from the inventory, for the peer store. */
  known: Array<{ peerId: string, addresses: string[] }>
  /** The configured bootstrap peers, and the servers this host dials at start. */
  bootstrap: string[]
  /** How often the DHT looks for peers near our own id (ms); undefined: kad-dht's default as tuned. */
  querySelfInterval?: number
}

export function dhtPlan (input: DhtPlanInput): DhtPlan {
  const known = input.members.flatMap(m => m.addresses === undefined ? [] : [{ peerId: m.peerId, addresses: m.addresses }])
  const perDc = input.dhtServersPerDc
  if (perDc === undefined) return { dhtClient: false, servers: new Set(input.members.map(m => m.host)), known, bootstrap: [...input.bootstrap] }
  // The config check makes every member's dc and addresses present when the bound is set.
  const dcMembers = input.members.map(m => ({ host: m.host, dc: m.dc ?? '', kadId: peerKadId(m.peerId) }))
  const keyOf = (dc: string): Uint8Array => createHash('sha256').update(dhtServerKeyText(input.cluster, dc)).digest()
  const servers = dhtServers(keyOf, dcMembers, perDc)
  const self = input.members.find(m => m.host === input.host)
  const isServer = servers.has(input.host)
  const dialled = input.members.filter(m => m.host !== input.host && servers.has(m.host) && (isServer || m.dc === self?.dc))
  const bootstrap = [...input.bootstrap]
  for (const m of dialled) {
    for (const a of m.addresses ?? []) bootstrap.push(a.includes('/p2p/') ? a : `${a}/p2p/${m.peerId}`)
  }
  return { dhtClient: !isServer, servers, known, bootstrap: [...new Set(bootstrap)], querySelfInterval: BOUNDED_QUERY_SELF_MS }
}

/**
 * What is wrong with this host's own entry in the inventory, if anything.
 * The other members dial only the listed addresses, so a list that names
 * none of those this node listens on (or announces) leaves it unreachable
 * to them: a typo or a changed port, caught at start instead of as a host
 * that never hears from its aggregator.
 */
export function ownAddressProblem (own: Pick<Member, 'addresses'> | undefined, listening: readonly string[]): string | undefined {
  if (own?.addresses === undefined) return undefined
  const bare = (a: string): string => a.replace(/\/p2p\/[^/]+$/, '')
  const here = new Set(listening.map(bare))
  if (own.addresses.some(a => here.has(bare(a)))) return undefined
  return `this host's addresses in the member list (${own.addresses.join(', ')}) are none of those it listens on (${listening.join(', ')}): the other members dial only the listed ones`
}
