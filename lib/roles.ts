/**
 * Who aggregates for a data center (docs/design.md §9.1, §9.8). Rounds are
 * grouped in epochs of ROUNDS_PER_EPOCH; for each DC and epoch the DC's
 * members are ranked by XOR distance to the key
 * sha256("/heliotrope/<cluster>/aggregator/<dc>/<epoch>"), as planners are
 * ranked for a round (lib/election.ts). A host reports to the first rank
 * that answers; ranks 1 and 2 are the standbys. Every host computes the same
 * ranking from the member list alone: no view, no gossip needed.
 */
import { rankCandidates, type Candidate } from './election.ts'

/** Epoch length: a host keeps one connection to its aggregator this long (§9.2). */
export const ROUNDS_PER_EPOCH = 10
/** Rank 0 and this many standbys are tried, in order. */
export const AGGREGATOR_STANDBYS = 2

export function epochOf (round: number, roundsPerEpoch = ROUNDS_PER_EPOCH): number {
  return Math.floor(Math.max(0, round) / roundsPerEpoch)
}

/** The text hashed into the aggregator key of `dc` in `epoch`. */
export function aggregatorKeyText (cluster: string, dc: string, epoch: number): string {
  return `/heliotrope/${cluster}/aggregator/${dc}/${epoch}`
}

export interface DcMember extends Candidate {
  dc: string
}

/**
 * The aggregator ranking of `dc`: its members closest to `key` first
 * (rank 0 aggregates, the next AGGREGATOR_STANDBYS stand by). `key` is the
 * hash of aggregatorKeyText (hashing stays in the agent).
 */
export function aggregatorRanking (key: Uint8Array, dc: string, members: readonly DcMember[]): string[] {
  return rankCandidates(key, members.filter(m => m.dc === dc))
}

/** For each DC, its ranking's first hosts (rank 0 and the standbys): where the DC's reports go. */
export function aggregatorsByDc (keyOf: (dc: string) => Uint8Array, members: readonly DcMember[]): Map<string, string[]> {
  const out = new Map<string, string[]>()
  for (const dc of new Set(members.map(m => m.dc))) out.set(dc, aggregatorRanking(keyOf(dc), dc, members).slice(0, 1 + AGGREGATOR_STANDBYS))
  return out
}

/**
 * The text hashed into the DHT-server key of `dc`. No epoch: a DHT server's
 * routing table is what every lookup stands on, so the servers stay put
 * while the member list does.
 */
export function dhtServerKeyText (cluster: string, dc: string): string {
  return `/heliotrope/${cluster}/dht-server/${dc}`
}

/**
 * The members that serve the DHT: in each DC the `perDc` closest to its key
 * (the hash of dhtServerKeyText). The rest are DHT clients: they ask, and
 * nobody connects to them to ask, so a host's connections are its servers,
 * its aggregator and the peers it works with, not the cluster (§9.8).
 */
export function dhtServers (keyOf: (dc: string) => Uint8Array, members: readonly DcMember[], perDc: number): Set<string> {
  const out = new Set<string>()
  for (const dc of new Set(members.map(m => m.dc))) {
    for (const host of rankCandidates(keyOf(dc), members.filter(m => m.dc === dc)).slice(0, perDc)) out.add(host)
  }
  return out
}
