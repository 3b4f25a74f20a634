/**
 * Signed membership's records as they travel (docs/design.md §3.7): the
 * readers of invitations, revocations, certificates and bundles from
 * untrusted input (the wire, the state file, a join token). They check
 * form only: signatures and what the records mean are lib/membership.ts's.
 */
import { readAdminKeyRecord, type AdminKeyRecord } from './admin-keys.ts'
import { Checker, type Json } from './check.ts'
import { ROLES, type Certificate, type Invitation, type Revocation, type Role, type Signed } from './membership.ts'

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

/** What travels on the membership topic and in a join answer: records, all checked by the receiver. */
export interface MembershipBundle {
  /** The admin key chain (absent in bundles and state files of a cluster that never rotated, and of older releases). */
  keyRecords?: Array<Signed<AdminKeyRecord>>
  certificates: Certificate[]
  revocations: Array<Signed<Revocation>>
}

/** Records in one bundle at most: a bound on the work a peer can ask of us (the message bound is 256 KiB; a certificate is about 300 bytes). */
export const MAX_BUNDLE_RECORDS = 500

export function readBundle (c: Checker, path: string, value: Json): MembershipBundle | undefined {
  const o = c.object(path, value)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['keyRecords', 'certificates', 'revocations'])
  const keys = o.keyRecords === undefined ? [] : (c.array(`${path}.keyRecords`, o.keyRecords) ?? [])
  const certs = c.array(`${path}.certificates`, o.certificates) ?? []
  const revs = c.array(`${path}.revocations`, o.revocations) ?? []
  const count = keys.length + certs.length + revs.length
  if (count > MAX_BUNDLE_RECORDS) c.fail(path, `at most ${MAX_BUNDLE_RECORDS} records`, count)
  if (!c.ok) return undefined
  const keyRecords = keys.map((x, i) => readSigned(c, `${path}.keyRecords[${i}]`, x, readAdminKeyRecord))
  const certificates = certs.map((x, i) => readCertificate(c, `${path}.certificates[${i}]`, x))
  const revocations = revs.map((x, i) => readSigned(c, `${path}.revocations[${i}]`, x, readRevocation))
  if (!c.ok) return undefined
  return { ...(keyRecords.length > 0 ? { keyRecords: keyRecords as Array<Signed<AdminKeyRecord>> } : {}), certificates: certificates as Certificate[], revocations: revocations as Array<Signed<Revocation>> }
}
