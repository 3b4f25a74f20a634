/**
 * Which admin keys an agent trusts (docs/design.md §3.7, "Rotating the
 * admin key"): the config's `adminKey` to start with, then the chain of
 * **admin key records** `{ cluster, keys, seq }` ("from seq on, these keys
 * sign"), each signed by a key trusted just before it. Pure: signatures are
 * checked by a function passed in.
 *
 * The chain is recomputed from every record held, whatever order they came
 * in: from the config's key, take the held record of the smallest seq above
 * the current one that a trusted key signed; its keys are trusted from then
 * on. Two such records at one seq (a fork: someone holding a retired key
 * signed another) are reported (forks()) for the agent to log at error
 * level, and settled: a record this agent took into its chain before is
 * kept (a leaked old key cannot undo a rotation every agent has heard of);
 * between records it holds none of, the smaller signature, the same choice
 * on every agent whatever the order they came in.
 * A record no trusted key signed (yet) is held aside, bounded: it joins the
 * chain once the records before it arrive.
 */
import { encode } from 'cborg'
import { Checker, type Json } from './check.ts'
import type { Signed, VerifyAdmin } from './membership.ts'

export interface AdminKeyRecord {
  cluster: string
  /** base64 SPKI DER of each Ed25519 public key that signs from `seq` on. */
  keys: string[]
  /** Above the seq of the record trusted when it was made (the config's key is seq 0). */
  seq: number
}

/** Keys in one record at most: a rotation names one; a few allow a planned overlap. */
export const MAX_RECORD_KEYS = 4
/**
 * Key records held aside at most (not in the chain: not signed by a key
 * trusted yet, or fork losers), the oldest dropped first: a bound on what a
 * member can make us keep and check. The chain itself grows by one record
 * (about 150 bytes) per rotation, bounded by MAX_BUNDLE_RECORDS; a host whose
 * config names a newer key holds the records before it aside, so updating
 * the configs' adminKey lets them go.
 */
export const MAX_ASIDE_RECORDS = 16
/** Seqs above this are refused: far above any count of rotations, and exact as a JS number. */
export const MAX_SEQ = 2 ** 40

/** A checker for a public key (base64 SPKI), or undefined when it is no Ed25519 key. */
export type KeyVerifier = (publicKey: string) => VerifyAdmin | undefined

/** Domain-separated as signedBytes: a key record's signature never passes for an invitation's. */
export function keyRecordBytes (body: AdminKeyRecord): Uint8Array {
  return encode(['heliotrope/admin-keys/1', body])
}

export function readAdminKeyRecord (c: Checker, path: string, value: Json): AdminKeyRecord | undefined {
  const o = c.object(path, value)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['cluster', 'keys', 'seq'])
  const cluster = c.string(`${path}.cluster`, o.cluster, { nonEmpty: true, max: 128 })
  const raw = c.array(`${path}.keys`, o.keys) ?? []
  if (raw.length === 0 || raw.length > MAX_RECORD_KEYS) c.fail(`${path}.keys`, `1 to ${MAX_RECORD_KEYS} keys`, raw.length)
  const keys = raw.slice(0, MAX_RECORD_KEYS).map((k, i) => c.string(`${path}.keys[${i}]`, k, { nonEmpty: true, max: 128 }) ?? '')
  const seq = c.number(`${path}.seq`, o.seq, { integer: true, min: 1, max: MAX_SEQ })
  return c.ok ? { cluster: cluster!, keys, seq: seq! } : undefined
}

/** Who signed something, as far as the chain knows: a key trusted now, one trusted before (retired), or neither. */
export type Signer = 'trusted' | 'retired' | 'unknown'

export interface AdminTrust {
  /** The keys that sign now. */
  keys: string[]
  /** The seq of the newest record in the chain; 0 when the config's key is still the one. */
  seq: number
}

export interface KeyFork {
  seq: number
  /** The signature (hex) of the record kept, and of the others at that seq. */
  kept: string
  others: string[]
}

const hex = (b: Uint8Array): string => Array.from(b, x => x.toString(16).padStart(2, '0')).join('')

export class AdminKeyChain {
  private readonly cluster: string
  private readonly rootKey: string
  private readonly verifier: KeyVerifier
  private readonly verifiers = new Map<string, VerifyAdmin | undefined>()
  /** By signature (hex), in the order offered (the oldest aside is dropped first when full). */
  private readonly held = new Map<string, Signed<AdminKeyRecord>>()
  /** `${signature hex} ${key}` -> whether that key signed that record: records are checked once per key. */
  private readonly signedBy = new Map<string, boolean>()
  private chainRecords: Array<Signed<AdminKeyRecord>> = []
  private trustedKeys: string[]
  private retiredKeys: string[] = []
  private forkList: KeyFork[] = []
  /** Signatures (hex) of every record this agent has had in its chain: kept at a fork. */
  private readonly pinned = new Set<string>()

  constructor (init: { cluster: string, rootKey: string, verifier: KeyVerifier }) {
    this.cluster = init.cluster
    this.rootKey = init.rootKey
    this.verifier = init.verifier
    this.trustedKeys = [init.rootKey]
  }

  trust (): AdminTrust {
    return { keys: [...this.trustedKeys], seq: this.chainRecords.at(-1)?.body.seq ?? 0 }
  }

  /** The records from the config's key to the keys trusted now, by seq: what a bundle carries. */
  chain (): Array<Signed<AdminKeyRecord>> {
    return [...this.chainRecords]
  }

  forks (): KeyFork[] {
    return this.forkList.map(f => ({ ...f, others: [...f.others] }))
  }

  /**
   * Keeps a record: 'new' when it changed the chain (the trusted keys may
   * have changed), 'known' when it was held already, 'aside' when held but
   * not (yet) in the chain (no trusted key signed it, or it lost a fork),
   * or why it was refused.
   */
  offer (rec: Signed<AdminKeyRecord>): 'new' | 'known' | 'aside' | 'wrong-cluster' | 'bad-key' {
    return this.offerAll([rec])[0]!
  }

  /**
   * Offers records that came together (one bundle, or the state file):
   * held first, then the chain recomputed once, so which of two records of
   * one seq came first within them does not matter.
   */
  offerAll (recs: ReadonlyArray<Signed<AdminKeyRecord>>): Array<'new' | 'known' | 'aside' | 'wrong-cluster' | 'bad-key'> {
    const before = this.chainRecords.map(r => hex(r.sig)).join()
    const added: string[] = []
    const results: Array<'new' | 'known' | 'aside' | 'wrong-cluster' | 'bad-key' | undefined> = recs.map(rec => {
      if (rec.body.cluster !== this.cluster) return 'wrong-cluster'
      if (rec.body.keys.some(k => this.verifierOf(k) === undefined)) return 'bad-key'
      const id = hex(rec.sig)
      if (this.held.has(id)) return 'known'
      this.held.set(id, rec)
      added.push(id)
      return undefined
    })
    if (added.length === 0) return results.map(r => r!)
    this.walk()
    const onChain = new Set(this.chainRecords.map(r => hex(r.sig)))
    const aside = [...this.held.keys()].filter(k => !onChain.has(k))
    for (const k of aside.slice(0, Math.max(0, aside.length - MAX_ASIDE_RECORDS))) this.held.delete(k)
    const changed = this.chainRecords.map(r => hex(r.sig)).join() !== before
    return results.map((r, i) => r ?? (changed && onChain.has(hex(recs[i]!.sig)) ? 'new' : 'aside'))
  }

  /**
   * The seq a rotation made here must carry: above the chain's, and above
   * any record held that names a key trusted now (on a host whose config
   * names the new key, the record that named it is aside, and the others'
   * chains are already at its seq).
   */
  nextSeq (): number {
    const naming = [...this.held.values()].filter(r => r.body.keys.some(k => this.trustedKeys.includes(k))).map(r => r.body.seq)
    return Math.max(this.trust().seq, ...naming) + 1
  }

  /** Who signed `bytes`: a key trusted now, a retired one, or none the chain knows. */
  signer (bytes: Uint8Array, sig: Uint8Array): Signer {
    if (this.trustedKeys.some(k => this.verifierOf(k)?.(bytes, sig) === true)) return 'trusted'
    if (this.retiredKeys.some(k => this.verifierOf(k)?.(bytes, sig) === true)) return 'retired'
    return 'unknown'
  }

  private verifierOf (key: string): VerifyAdmin | undefined {
    if (!this.verifiers.has(key)) this.verifiers.set(key, this.verifier(key))
    return this.verifiers.get(key)
  }

  private signs (key: string, rec: Signed<AdminKeyRecord>): boolean {
    const memo = `${hex(rec.sig)} ${key}`
    let ok = this.signedBy.get(memo)
    if (ok === undefined) {
      ok = this.verifierOf(key)?.(keyRecordBytes(rec.body), rec.sig) === true
      this.signedBy.set(memo, ok)
    }
    return ok
  }

  /** The chain from the config's key, from every record held: the same whatever order they came in. */
  private walk (): void {
    let trusted = [this.rootKey]
    let seq = 0
    const chain: Array<Signed<AdminKeyRecord>> = []
    const seen = new Set<string>(trusted)
    const forks: KeyFork[] = []
    for (;;) {
      const next = [...this.held.values()].filter(r => r.body.seq > seq && trusted.some(k => this.signs(k, r)))
      if (next.length === 0) break
      const lowest = Math.min(...next.map(r => r.body.seq))
      const at = next.filter(r => r.body.seq === lowest).sort((a, b) => (hex(a.sig) < hex(b.sig) ? -1 : 1))
      const mine = at.filter(r => this.pinned.has(hex(r.sig)))
      const kept = mine.length === 1 ? mine[0]! : at[0]!
      if (at.length > 1) forks.push({ seq: lowest, kept: hex(kept.sig), others: at.filter(r => r !== kept).map(r => hex(r.sig)) })
      chain.push(kept)
      trusted = [...kept.body.keys]
      for (const k of trusted) seen.add(k)
      seq = lowest
    }
    this.chainRecords = chain
    for (const r of chain) this.pinned.add(hex(r.sig))
    this.trustedKeys = trusted
    this.retiredKeys = [...seen].filter(k => !trusted.includes(k))
    this.forkList = forks
  }
}
