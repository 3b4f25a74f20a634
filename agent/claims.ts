/**
 * Planner claims in the DHT (docs/design.md §4.4): the planner
 * of round r stores a signed record under /heliotrope/<cluster>/round/<r>,
 * so anyone can ask who planned a round, long after its gossip is gone. The
 * DHT validates records with `validateClaim` (signature by the claimed peer,
 * key and round agree) and keeps the lowest rank when several exist.
 */
import { createHash } from 'node:crypto'
import { decode, encode } from 'cborg'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import { Checker } from '../lib/check.ts'
import { roundKeyText } from '../lib/election.ts'

/** The DHT's record namespace: the first segment of the key. */
export const CLAIM_NAMESPACE = 'heliotrope'
const MAX_CLAIM_BYTES = 2048

export interface Claim {
  cluster: string
  round: number
  host: string
  peerId: string
  rank: number
  /** sha256 of the plan message's bytes, hex. */
  plan: string
}

export function claimKey (cluster: string, round: number): Uint8Array {
  return new TextEncoder().encode(roundKeyText(cluster, round))
}

export function planDigest (bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

export async function signClaim (key: PrivateKey, claim: Claim): Promise<Uint8Array> {
  const body = encode(claim)
  return encode({ claim: body, sig: await key.sign(body) })
}

/** Decodes and checks a claim record; throws with a reason when it is not valid. */
export async function validateClaim (key: Uint8Array, value: Uint8Array): Promise<Claim> {
  if (value.length > MAX_CLAIM_BYTES) throw new Error('claim too large')
  const outer = decode(value, { strict: true }) as { claim?: unknown, sig?: unknown }
  if (!(outer.claim instanceof Uint8Array) || !(outer.sig instanceof Uint8Array)) throw new Error('claim: not a signed record')
  const c = new Checker(3)
  const o = c.object('claim', decode(outer.claim, { strict: true })) ?? {}
  c.onlyKeys('claim', o, ['cluster', 'round', 'host', 'peerId', 'rank', 'plan'])
  const claim: Claim = {
    cluster: c.string('cluster', o.cluster, { max: 63 }) ?? '',
    round: c.number('round', o.round, { integer: true, min: 0 }) ?? 0,
    host: c.string('host', o.host, { max: 128 }) ?? '',
    peerId: c.string('peerId', o.peerId, { max: 128 }) ?? '',
    rank: c.number('rank', o.rank, { integer: true, min: 0 }) ?? 0,
    plan: c.string('plan', o.plan, { max: 64 }) ?? ''
  }
  if (!c.ok) throw new Error(`claim: ${c.issues[0]!.path}: expected ${c.issues[0]!.expected}`)
  if (new TextDecoder().decode(key) !== roundKeyText(claim.cluster, claim.round)) throw new Error('claim: key and round disagree')
  const publicKey = peerIdFromString(claim.peerId).publicKey
  if (publicKey === undefined || !(await publicKey.verify(outer.claim, outer.sig))) throw new Error('claim: bad signature')
  return claim
}

/** Of several valid records for one round, the lowest rank's wins (as plans do). */
export async function selectClaim (_key: Uint8Array, records: Uint8Array[]): Promise<number> {
  let best = 0; let bestRank = Infinity
  for (let i = 0; i < records.length; i++) {
    try {
      const c = await validateClaim(_key, records[i]!)
      if (c.rank < bestRank) { best = i; bestRank = c.rank }
    } catch { /* an invalid record never wins */ }
  }
  return best
}
