/**
 * Who plans round r (docs/design.md §4.2). The round's key is
 * K_r = sha256("/heliotrope/<cluster>/round/" + r); candidates are the live
 * members ordered by XOR distance between their Kademlia id (sha256 of the
 * peer id's bytes) and K_r: the DHT's own metric, so a closest-peer lookup
 * for K_r finds the same order. Every agent ranks the same gossiped member
 * list the same way; the DHT lookup only confirms. Hashing happens in the
 * agent (lib stays free of crypto I/O): these functions take the digests.
 */

/** The text hashed into round r's key. */
export function roundKeyText (cluster: string, round: number): string {
  return `/heliotrope/${cluster}/round/${round}`
}

export function xorDistance (a: Uint8Array, b: Uint8Array): Uint8Array {
  const n = Math.max(a.length, b.length)
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = (a[i] ?? 0) ^ (b[i] ?? 0)
  return out
}

/** Big-endian byte comparison: negative when a < b. */
export function compareBytes (a: Uint8Array, b: Uint8Array): number {
  const n = Math.max(a.length, b.length)
  for (let i = 0; i < n; i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0)
    if (d !== 0) return d
  }
  return 0
}

export interface Candidate {
  host: string
  /** The member's Kademlia id: sha256 of its peer id bytes. */
  kadId: Uint8Array
}

/** Candidates closest to `roundKey` first; ties (never in practice) by host id. */
export function rankCandidates (roundKey: Uint8Array, candidates: readonly Candidate[]): string[] {
  return candidates
    .map(c => ({ host: c.host, d: xorDistance(roundKey, c.kadId) }))
    .sort((x, y) => compareBytes(x.d, y.d) || (x.host < y.host ? -1 : x.host > y.host ? 1 : 0))
    .map(c => c.host)
}

/**
 * Of two plans for one round, the one every agent keeps: the lower rank
 * wins; for the same rank (a planner that published twice) the first seen
 * stays, so an agent never switches plans mid-round.
 */
export function preferPlan (current: { rank: number } | undefined, incoming: { rank: number }): boolean {
  return current === undefined || incoming.rank < current.rank
}
