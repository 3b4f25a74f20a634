/**
 * Who does what in a round, by the real ranking (lib/election.ts): the
 * planner ranking over the round's members (docs/design.md §4.2) and, per
 * DC, the aggregator ranking over the DC's members for the epoch
 * (docs/design.md §9.2). Keys are hashed here (lab code may hash; lib
 * takes digests).
 */
import { rankCandidates, roundKeyText } from '../../lib/election.ts'
import { sha256, type World } from './world.ts'

export const MODEL_CLUSTER = 'model'
/** Aggregators keep their role this many rounds, so hosts keep one connection (docs/design.md §9.2). */
export const AGGREGATOR_EPOCH_ROUNDS = 10
/** Standby aggregators ranked per DC (rank 0 aggregates, the others take over in order). */
export const AGGREGATOR_RANKS = 3

export function plannerRanking (world: World, round: number, members: readonly number[]): number[] {
  const key = sha256(roundKeyText(MODEL_CLUSTER, round))
  return rank(world, key, members)
}

export function aggregatorKeyText (cluster: string, dc: string, epoch: number): string {
  return `/heliotrope/${cluster}/aggregator/${dc}/${epoch}`
}

/** The first AGGREGATOR_RANKS of each DC's members, closest to the DC's epoch key first. */
export function aggregatorRankings (world: World, round: number, members: readonly number[]): number[][] {
  const epoch = Math.floor(round / AGGREGATOR_EPOCH_ROUNDS)
  const byDc: number[][] = world.dcHosts.map(() => [])
  for (const h of members) byDc[world.hostDc[h]!]!.push(h)
  return byDc.map((hosts, d) => rank(world, sha256(aggregatorKeyText(MODEL_CLUSTER, world.snapshot.dcs[d]!.id, epoch)), hosts).slice(0, AGGREGATOR_RANKS))
}

function rank (world: World, key: Uint8Array, members: readonly number[]): number[] {
  const index = new Map<string, number>()
  for (const h of members) index.set(world.hostIds[h]!, h)
  return rankCandidates(key, members.map(h => ({ host: world.hostIds[h]!, kadId: world.kadIds[h]! }))).map(id => index.get(id)!)
}
