/**
 * Making the admin-signed records (lib/membership.ts, lib/admin-keys.ts)
 * with the admin key: what `heliotrope invite`, `heliotrope members remove`
 * and `heliotrope admin-key rotate` sign.
 */
import { randomBytes } from 'node:crypto'
import { keyRecordBytes, type AdminKeyRecord } from '../../lib/admin-keys.ts'
import { signedBytes, type Certificate, type Invitation, type Revocation, type Role, type Signed } from '../../lib/membership.ts'
import { type MembershipBundle } from '../../lib/membership-wire.ts'
import { signAdmin, type AdminKey } from './admin-key.ts'

/** How long a join token can be used by default: long enough to copy it to the new host and start it. */
export const DEFAULT_JOIN_TTL_MS = 60 * 60_000
/** How long a certificate lasts by default; invite the host again (or revoke it) before. */
export const DEFAULT_MEMBER_FOR_MS = 365 * 24 * 60 * 60_000

export interface InvitationSpec {
  cluster: string
  host: string
  dc: string
  role?: Role
  now: number
  /** Default now. */
  notBefore?: number
  /** Join window from notBefore; default DEFAULT_JOIN_TTL_MS. */
  ttlMs?: number
  /** Certificate lifetime from notBefore; default DEFAULT_MEMBER_FOR_MS. */
  memberForMs?: number
}

export function makeInvitation (key: AdminKey, spec: InvitationSpec): Signed<Invitation> {
  const notBefore = spec.notBefore ?? spec.now
  const body: Invitation = {
    cluster: spec.cluster,
    host: spec.host,
    dc: spec.dc,
    role: spec.role ?? 'host',
    issuedAt: spec.now,
    notBefore,
    joinBy: notBefore + (spec.ttlMs ?? DEFAULT_JOIN_TTL_MS),
    until: notBefore + (spec.memberForMs ?? DEFAULT_MEMBER_FOR_MS),
    nonce: randomBytes(16).toString('hex')
  }
  return { body, sig: signAdmin(key, signedBytes('invitation', body)) }
}

/** Revokes every certificate of `host` issued up to `now`. */
export function makeRevocation (key: AdminKey, cluster: string, host: string, now: number): Signed<Revocation> {
  const body: Revocation = { cluster, host, at: now }
  return { body, sig: signAdmin(key, signedBytes('revocation', body)) }
}

/**
 * A rotation's records: the key record naming `next` (signed by `current`,
 * a key trusted now, at `seq`, one above the chain's), and every
 * certificate and revocation held, the same bodies signed again by `next`
 * (docs/design.md §3.7): one bundle, so no agent counts a member out in
 * between.
 */
export function rotationBundle (current: AdminKey, next: AdminKey, cluster: string, seq: number, held: MembershipBundle): MembershipBundle & { keyRecords: Array<Signed<AdminKeyRecord>> } {
  const body: AdminKeyRecord = { cluster, keys: [next.publicKey], seq }
  const certificates: Certificate[] = held.certificates.map(c => ({ peerId: c.peerId, invitation: { body: c.invitation.body, sig: signAdmin(next, signedBytes('invitation', c.invitation.body)) } }))
  const revocations = held.revocations.map(r => ({ body: r.body, sig: signAdmin(next, signedBytes('revocation', r.body)) }))
  return { keyRecords: [...(held.keyRecords ?? []), { body, sig: signAdmin(current, keyRecordBytes(body)) }], certificates, revocations }
}
