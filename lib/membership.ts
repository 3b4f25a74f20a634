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
 * The records only ever grow (certificates and revocations are never
 * withdrawn), so every agent that holds the same records computes the same
 * member list, whatever order they arrived in: that is what keeps the
 * member-list hash, and so the votes, consistent across agents.
 */
import { encode } from 'cborg'
import { Checker, type Json } from './check.ts'

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
export type InvitationProblem = 'bad-signature' | 'wrong-cluster' | 'not-yet-valid' | 'expired' | 'revoked' | 'static-member' | 'nonce-used'

const ID = { nonEmpty: true, max: 128 }
const TIME = { integer: true, min: 0 }

/** Reads an invitation body from the wire, or undefined (with what was wrong in `c`). */
export function readInvitation (c: Checker, path: string, value: Json): Invitation | undefined {
  const o = c.object(path, value)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['cluster', 'host', 'dc', 'role', 'issuedAt', 'notBefore', 'joinBy', 'until', 'nonce'])
  const inv = {
    cluster: c.string(`${path}.cluster`, o.cluster, ID),
    host: c.string(`${path}.host`, o.host, ID),
    dc: c.string(`${path}.dc`, o.dc, ID),
    role: readRole(c, `${path}.role`, o.role),
    issuedAt: c.number(`${path}.issuedAt`, o.issuedAt, TIME),
    notBefore: c.number(`${path}.notBefore`, o.notBefore, TIME),
    joinBy: c.number(`${path}.joinBy`, o.joinBy, TIME),
    until: c.number(`${path}.until`, o.until, TIME),
    nonce: c.string(`${path}.nonce`, o.nonce, { nonEmpty: true, max: 64 })
  }
  if (!c.ok) return undefined
  return inv as Invitation
}

function readRole (c: Checker, path: string, value: Json): Role | undefined {
  if (ROLES.includes(value as Role)) return value as Role
  c.fail(path, ROLES.join(' | '), value)
  return undefined
}

export function readRevocation (c: Checker, path: string, value: Json): Revocation | undefined {
  const o = c.object(path, value)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['cluster', 'host', 'at'])
  const r = { cluster: c.string(`${path}.cluster`, o.cluster, ID), host: c.string(`${path}.host`, o.host, ID), at: c.number(`${path}.at`, o.at, TIME) }
  return c.ok ? r as Revocation : undefined
}

/** Reads `{ body, sig }` with `readBody`; the signature is checked later, by whoever holds the key. */
export function readSigned<T> (c: Checker, path: string, value: Json, readBody: (c: Checker, path: string, v: Json) => T | undefined): Signed<T> | undefined {
  const o = c.object(path, value)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['body', 'sig'])
  const body = readBody(c, `${path}.body`, o.body)
  if (!(o.sig instanceof Uint8Array) || o.sig.byteLength !== 64) c.fail(`${path}.sig`, 'a 64-byte ed25519 signature', o.sig)
  return c.ok && body !== undefined ? { body, sig: o.sig as Uint8Array } : undefined
}

export function readCertificate (c: Checker, path: string, value: Json): Certificate | undefined {
  const o = c.object(path, value)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['invitation', 'peerId'])
  const invitation = readSigned(c, `${path}.invitation`, o.invitation, readInvitation)
  const peerId = c.string(`${path}.peerId`, o.peerId, { nonEmpty: true, max: 128 })
  return c.ok && invitation !== undefined && peerId !== undefined ? { invitation, peerId } : undefined
}

/** A member as the member list holds it (the config's members have the same fields). */
export interface CertifiedMember {
  host: string
  peerId: string
  dc: string
}

/** What an agent knows of a peer id from the records. */
export type PeerStanding = 'member' | 'revoked' | 'expired' | 'superseded' | 'unknown'

/**
 * Every membership record an agent holds, and the member list they make at
 * a given time. Records are checked (signature, cluster) as they are
 * offered; time-dependent rules (expiry) are applied when asked, with the
 * time passed in.
 */
export class MembershipRecords {
  private readonly cluster: string
  private readonly verify: VerifyAdmin
  /** Hosts in the config's static `members`: a certificate cannot take their name. */
  private readonly staticHosts: ReadonlySet<string>
  /** By invitation nonce: the one certificate kept for it (see offerCertificate). */
  private readonly certs = new Map<string, Certificate>()
  /** By host: the latest revocation time. */
  private readonly revoked = new Map<string, Signed<Revocation>>()

  constructor (init: { cluster: string, verify: VerifyAdmin, staticHosts?: Iterable<string> }) {
    this.cluster = init.cluster
    this.verify = init.verify
    this.staticHosts = new Set(init.staticHosts ?? [])
  }

  /** Signature and cluster: what makes an invitation the admin's for this cluster, whatever the time. */
  private authentic (inv: Signed<Invitation>): InvitationProblem | undefined {
    if (inv.body.cluster !== this.cluster) return 'wrong-cluster'
    if (!this.verify(signedBytes('invitation', inv.body), inv.sig)) return 'bad-signature'
    return undefined
  }

  /** Whether the admin key signed `bytes` (cluster settings are signed by it too: lib/settings.ts). */
  signedByAdmin (bytes: Uint8Array, sig: Uint8Array): boolean {
    return this.verify(bytes, sig)
  }

  /** True when a revocation held covers this invitation. */
  isRevoked (inv: Invitation): boolean {
    const r = this.revoked.get(inv.host)
    return r !== undefined && inv.issuedAt <= r.body.at
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
    const held = this.certs.get(b.nonce)
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
   * id wins, so every agent keeps the same one.
   */
  offerCertificate (cert: Certificate): 'new' | 'known' | InvitationProblem {
    const problem = this.authentic(cert.invitation)
    if (problem !== undefined) return problem
    const nonce = cert.invitation.body.nonce
    const held = this.certs.get(nonce)
    if (held !== undefined && held.peerId <= cert.peerId) return 'known'
    this.certs.set(nonce, cert)
    return 'new'
  }

  /** Keeps a revocation: 'new' when it revokes more than what was held. */
  offerRevocation (rev: Signed<Revocation>): 'new' | 'known' | 'bad-signature' | 'wrong-cluster' {
    if (rev.body.cluster !== this.cluster) return 'wrong-cluster'
    if (!this.verify(signedBytes('revocation', rev.body), rev.sig)) return 'bad-signature'
    const held = this.revoked.get(rev.body.host)
    if (held !== undefined && held.body.at >= rev.body.at) return 'known'
    this.revoked.set(rev.body.host, rev)
    return 'new'
  }

  certificates (): Certificate[] {
    return [...this.certs.values()].sort((a, b) => (a.invitation.body.nonce < b.invitation.body.nonce ? -1 : 1))
  }

  revocations (): Array<Signed<Revocation>> {
    return [...this.revoked.values()].sort((a, b) => (a.body.host < b.body.host ? -1 : 1))
  }

  /**
   * The certified members at `now`: not revoked, not expired, not a static
   * member's name, and per host only the newest invitation (a host invited
   * again, say with a new peer key, replaces its older certificate).
   */
  members (now: number): CertifiedMember[] {
    const byHost = new Map<string, Certificate>()
    for (const cert of this.certs.values()) {
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
    const mine = [...this.certs.values()].filter(c => c.peerId === peerId)
    if (mine.length === 0) return 'unknown'
    if (this.members(now).some(m => m.peerId === peerId)) return 'member'
    if (mine.some(c => this.isRevoked(c.invitation.body))) return 'revoked'
    if (mine.some(c => now >= c.invitation.body.until)) return 'expired'
    return 'superseded'
  }
}

function newerInvitation (a: Invitation, b: Invitation): boolean {
  return a.issuedAt !== b.issuedAt ? a.issuedAt > b.issuedAt : a.nonce > b.nonce
}

/** What travels on the membership topic and in a join answer: records, all checked by the receiver. */
export interface MembershipBundle {
  certificates: Certificate[]
  revocations: Array<Signed<Revocation>>
}

/** Records in one bundle at most: a bound on the work a peer can ask of us (the message bound is 256 KiB; a certificate is about 300 bytes). */
export const MAX_BUNDLE_RECORDS = 500

export function readBundle (c: Checker, path: string, value: Json): MembershipBundle | undefined {
  const o = c.object(path, value)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['certificates', 'revocations'])
  const certs = c.array(`${path}.certificates`, o.certificates) ?? []
  const revs = c.array(`${path}.revocations`, o.revocations) ?? []
  if (certs.length + revs.length > MAX_BUNDLE_RECORDS) c.fail(path, `at most ${MAX_BUNDLE_RECORDS} records`, certs.length + revs.length)
  if (!c.ok) return undefined
  const certificates = certs.map((x, i) => readCertificate(c, `${path}.certificates[${i}]`, x))
  const revocations = revs.map((x, i) => readSigned(c, `${path}.revocations[${i}]`, x, readRevocation))
  if (!c.ok) return undefined
  return { certificates: certificates as Certificate[], revocations: revocations as Array<Signed<Revocation>> }
}
