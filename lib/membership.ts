/**
 * Signed membership (docs/design.md §3.7): the records a cluster admin key
 * signs, and what every agent decides from them. Pure: no I/O, no clocks
 * (the time comes in as an argument) and no crypto (the admin signature is
 * checked by a function passed in: lib/ imports only itself and cborg).
 *
 * - An **invitation** names a host, its DC and role, when it may join
 *   (`notBefore` .. `joinBy`), until when it is a member (`until`) and a
 *   nonce; the admin key signs it.
 * - A **certificate** is an invitation bound to the peer id that presented
 *   it first to a member (the member checked it and vouches for the
 *   binding by gossiping it; only members may gossip membership records).
 * - A **revocation** names a host and a time: every certificate of that
 *   host issued at or before it is revoked (so the same host name can be
 *   invited again later, with a new invitation).
 *
 * - An **admin key record** (lib/admin-keys.ts) says which keys sign from
 *   its seq on: the admin key rotates, and a record counts only while its
 *   signature verifies under a key trusted now (a rotation re-signs the
 *   records held, so nobody drops out in between).
 *
 * The records only ever grow (certificates and revocations are never
 * withdrawn; one signed by a key trusted now replaces one that no longer
 * verifies), so every agent that holds the same records computes the same
 * member list, whatever order they arrived in: that is what keeps the
 * member-list hash, and so the votes, consistent across agents.
 */
import { encode } from 'cborg'
import { AdminKeyChain, type AdminKeyRecord, type AdminTrust, type KeyFork, type KeyVerifier } from './admin-keys.ts'
import type { MembershipBundle } from './membership-wire.ts'

export const ROLES = ['host'] as const
export type Role = typeof ROLES[number]

export interface Invitation {
  cluster: string
  host: string
  dc: string
  role: Role
  /** When it was signed, ms since the epoch: revocations compare with it. */
  issuedAt: number
  /** Not presentable before (ms). */
  notBefore: number
  /** Not presentable after (ms): a token is short-lived. */
  joinBy: number
  /** The certificate made from it expires then (ms). */
  until: number
  /** One peer id per nonce: a token used twice admits only its first user. */
  nonce: string
}

export interface Revocation {
  cluster: string
  host: string
  /** Every certificate of `host` issued at or before this (ms) is revoked. */
  at: number
}

/** A record with the admin key's signature over signedBytes(kind, body). */
export interface Signed<T> {
  body: T
  sig: Uint8Array
}

export interface Certificate {
  invitation: Signed<Invitation>
  peerId: string
}

/** Checks an ed25519 signature of the cluster's admin key (the agent passes node:crypto's). */
export type VerifyAdmin = (bytes: Uint8Array, sig: Uint8Array) => boolean

/** Domain-separated: an invitation's signature can never pass for a revocation's. */
export function signedBytes (kind: 'invitation' | 'revocation', body: Invitation | Revocation): Uint8Array {
  // cborg sorts map keys, so the bytes depend only on the fields' values.
  return encode([`heliotrope/${kind}/1`, body])
}

/** Why an invitation is not (yet, or any longer) good for joining. */
export type InvitationProblem = 'bad-signature' | 'retired-key' | 'wrong-cluster' | 'not-yet-valid' | 'expired' | 'revoked' | 'static-member' | 'nonce-used'

/** A member as the member list holds it (the config's members have the same fields). */
export interface CertifiedMember {
  host: string
  peerId: string
  dc: string
}

/** What an agent knows of a peer id from the records. */
export type PeerStanding = 'member' | 'revoked' | 'expired' | 'superseded' | 'retired' | 'unknown'

/** What offerBundle made of a bundle: whether anything changed, and each record refused. */
export interface BundleOutcome {
  fresh: boolean
  refused: Array<{ kind: 'key-record' | 'certificate' | 'revocation', host?: string, why: string }>
  /** Records signed by a retired key (a peer that has not heard of the rotation yet): not counted, not an attack. */
  stale: number
}

/**
 * Every membership record an agent holds, and the member list they make at
 * a given time. Records are checked (signature, cluster) as they are
 * offered; time-dependent rules (expiry) are applied when asked, with the
 * time passed in.
 */
export class MembershipRecords {
  private readonly cluster: string
  private readonly keys: AdminKeyChain
  /** Whether a record's signature verifies under the keys trusted now, by the record object (records are never changed in place); renewed when the trusted keys change. */
  private valid = new WeakMap<object, boolean>()
  /** Hosts in the config's static `members`: a certificate cannot take their name. */
  private readonly staticHosts: ReadonlySet<string>
  /** By invitation nonce: the one certificate kept for it (see offerCertificate). */
  private readonly certs = new Map<string, Certificate>()
  /** By host: the latest revocation time. */
  private readonly revoked = new Map<string, Signed<Revocation>>()

  /** `adminKey` is the config's: trusted until a key record signed by it says otherwise. */
  constructor (init: { cluster: string, adminKey: string, verifier: KeyVerifier, staticHosts?: Iterable<string> }) {
    this.cluster = init.cluster
    this.keys = new AdminKeyChain({ cluster: init.cluster, rootKey: init.adminKey, verifier: init.verifier })
    this.staticHosts = new Set(init.staticHosts ?? [])
  }

  /** The admin keys trusted now, and the seq of the record that named them. */
  trust (): AdminTrust {
    return this.keys.trust()
  }

  /** Whether a key trusted now signed `bytes` (cluster settings are signed by the admin key too: lib/settings.ts). */
  signedByAdmin (bytes: Uint8Array, sig: Uint8Array): boolean {
    return this.keys.signer(bytes, sig) === 'trusted'
  }

  /** The key records from the config's key to the keys trusted now. */
  keyRecords (): Array<Signed<AdminKeyRecord>> {
    return this.keys.chain()
  }

  /** The seq the next rotation's key record must carry (AdminKeyChain.nextSeq). */
  nextKeySeq (): number {
    return this.keys.nextSeq()
  }

  /** Two key records at one seq, both validly signed: a retired key in use by someone (the agent logs it at error level). */
  forks (): KeyFork[] {
    return this.keys.forks()
  }

  /** 'new' when the trusted keys changed (held records are then counted by the new keys), else as AdminKeyChain.offer. */
  offerKeyRecord (rec: Signed<AdminKeyRecord>): ReturnType<AdminKeyChain['offer']> {
    return this.offerKeyRecords([rec])[0]!
  }

  /** Key records that came together (a bundle): see AdminKeyChain.offerAll. */
  offerKeyRecords (recs: ReadonlyArray<Signed<AdminKeyRecord>>): ReturnType<AdminKeyChain['offerAll']> {
    const r = this.keys.offerAll(recs)
    if (r.includes('new')) this.valid = new WeakMap()
    return r
  }

  /** Whether a held record counts: its signature verifies under a key trusted now. */
  private counts (kind: 'invitation' | 'revocation', s: Signed<Invitation> | Signed<Revocation>): boolean {
    let ok = this.valid.get(s)
    if (ok === undefined) {
      ok = this.keys.signer(signedBytes(kind, s.body), s.sig) === 'trusted'
      this.valid.set(s, ok)
    }
    return ok
  }

  /** Cluster and signature: what makes a record the admin's for this cluster now, whatever the time. */
  private problem (kind: 'invitation' | 'revocation', s: Signed<Invitation> | Signed<Revocation>): 'wrong-cluster' | 'bad-signature' | 'retired-key' | undefined {
    if (s.body.cluster !== this.cluster) return 'wrong-cluster'
    if (this.counts(kind, s)) return undefined
    return this.keys.signer(signedBytes(kind, s.body), s.sig) === 'retired' ? 'retired-key' : 'bad-signature'
  }

  private authentic (inv: Signed<Invitation>): InvitationProblem | undefined {
    return this.problem('invitation', inv)
  }

  /** True when a revocation counted now covers this invitation. */
  isRevoked (inv: Invitation): boolean {
    const r = this.revoked.get(inv.host)
    return r !== undefined && this.counts('revocation', r) && inv.issuedAt <= r.body.at
  }

  /**
   * Whether `peerId` may be admitted with `inv` at `now` (what a member
   * checks before vouching for it); undefined when it may. Presenting it
   * again from the same peer id is fine (a retry after a lost answer).
   */
  admissible (inv: Signed<Invitation>, peerId: string, now: number): InvitationProblem | undefined {
    const problem = this.authentic(inv)
    if (problem !== undefined) return problem
    const b = inv.body
    if (this.staticHosts.has(b.host)) return 'static-member'
    if (this.isRevoked(b)) return 'revoked'
    const held = this.counted(this.certs.get(b.nonce))
    if (held !== undefined && held.peerId !== peerId) return 'nonce-used'
    if (held !== undefined) return now >= b.until ? 'expired' : undefined
    if (now < b.notBefore) return 'not-yet-valid'
    if (now > b.joinBy || now >= b.until) return 'expired'
    return undefined
  }

  /**
   * Keeps a certificate (from a member's gossip, or our own admission):
   * 'new' when it was not held, 'known' when it was, or what is wrong with
   * it. Two certificates of one nonce (the token used twice, through two
   * members at once) are settled the same way everywhere: the smaller peer
   * id wins, so every agent keeps the same one. A certificate held whose
   * signature no longer verifies (its key was rotated away) is replaced by
   * one that does: the rotation's re-signed copy.
   */
  offerCertificate (cert: Certificate): 'new' | 'known' | InvitationProblem {
    const problem = this.authentic(cert.invitation)
    if (problem !== undefined) return problem
    const nonce = cert.invitation.body.nonce
    const held = this.counted(this.certs.get(nonce))
    if (held !== undefined && held.peerId <= cert.peerId) return 'known'
    this.certs.set(nonce, cert)
    return 'new'
  }

  /** Keeps a revocation: 'new' when it revokes more than what was counted (or replaces one whose key was rotated away). */
  offerRevocation (rev: Signed<Revocation>): 'new' | 'known' | 'bad-signature' | 'retired-key' | 'wrong-cluster' {
    const problem = this.problem('revocation', rev)
    if (problem !== undefined) return problem
    const held = this.revoked.get(rev.body.host)
    if (held !== undefined && this.counts('revocation', held) && held.body.at >= rev.body.at) return 'known'
    this.revoked.set(rev.body.host, rev)
    return 'new'
  }

  /**
   * Offers a bundle's records, key records first (by seq), so the
   * certificates and revocations a rotation re-signed are checked against
   * the keys it names, whatever order the bundle lists them in.
   */
  offerBundle (bundle: MembershipBundle): BundleOutcome {
    const out: BundleOutcome = { fresh: false, refused: [], stale: 0 }
    const note = (kind: BundleOutcome['refused'][number]['kind'], r: string, host?: string): void => {
      if (r === 'new') out.fresh = true
      else if (r === 'retired-key') out.stale++
      else if (r !== 'known' && r !== 'aside') out.refused.push({ kind, why: r, ...(host !== undefined ? { host } : {}) })
    }
    for (const r of this.offerKeyRecords(bundle.keyRecords ?? [])) note('key-record', r)
    for (const c of bundle.certificates) note('certificate', this.offerCertificate(c), c.invitation.body.host)
    for (const r of bundle.revocations) note('revocation', this.offerRevocation(r), r.body.host)
    return out
  }

  /** The certificate held, when it counts now. */
  private counted (cert: Certificate | undefined): Certificate | undefined {
    return cert !== undefined && this.counts('invitation', cert.invitation) ? cert : undefined
  }

  /** The certificates that count now (signed by a key trusted now), by nonce. */
  certificates (): Certificate[] {
    return [...this.certs.values()].filter(c => this.counts('invitation', c.invitation)).sort((a, b) => (a.invitation.body.nonce < b.invitation.body.nonce ? -1 : 1))
  }

  /** The revocations that count now, by host. */
  revocations (): Array<Signed<Revocation>> {
    return [...this.revoked.values()].filter(r => this.counts('revocation', r)).sort((a, b) => (a.body.host < b.body.host ? -1 : 1))
  }

  /** What a bundle of ours carries: the key chain (only once there is one, so an older agent reads a bundle of a cluster that never rotated) and the records that count. */
  bundle (): MembershipBundle {
    const keyRecords = this.keyRecords()
    return { ...(keyRecords.length > 0 ? { keyRecords } : {}), certificates: this.certificates(), revocations: this.revocations() }
  }

  /**
   * The certified members at `now`: not revoked, not expired, not a static
   * member's name, and per host only the newest invitation (a host invited
   * again, say with a new peer key, replaces its older certificate).
   */
  members (now: number): CertifiedMember[] {
    const byHost = new Map<string, Certificate>()
    for (const cert of this.certificates()) {
      const b = cert.invitation.body
      if (this.staticHosts.has(b.host) || this.isRevoked(b) || now >= b.until) continue
      const other = byHost.get(b.host)
      if (other === undefined || newerInvitation(b, other.invitation.body)) byHost.set(b.host, cert)
    }
    return [...byHost.values()]
      .map(c => ({ host: c.invitation.body.host, peerId: c.peerId, dc: c.invitation.body.dc }))
      .sort((a, b) => (a.host < b.host ? -1 : 1))
  }

  /** What the records say of `peerId` at `now` (static members are not asked here). */
  standing (peerId: string, now: number): PeerStanding {
    const held = [...this.certs.values()].filter(c => c.peerId === peerId)
    if (held.length === 0) return 'unknown'
    const mine = held.filter(c => this.counts('invitation', c.invitation))
    if (mine.length === 0) return 'retired'
    if (this.members(now).some(m => m.peerId === peerId)) return 'member'
    if (mine.some(c => this.isRevoked(c.invitation.body))) return 'revoked'
    if (mine.some(c => now >= c.invitation.body.until)) return 'expired'
    return 'superseded'
  }
}

function newerInvitation (a: Invitation, b: Invitation): boolean {
  return a.issuedAt !== b.issuedAt ? a.issuedAt > b.issuedAt : a.nonce > b.nonce
}
