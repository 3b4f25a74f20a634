/**
 * Membership records on the wire and on disk: CBOR (signatures are bytes),
 * checked by lib/membership.ts's readers.
 */
import { decode, encode } from 'cborg'
import { Checker } from '../../lib/check.ts'
import { type Invitation, type Signed } from '../../lib/membership.ts'
import { readBundle, readInvitation, readSigned, type MembershipBundle } from '../../lib/membership-wire.ts'

const DECODE_OPTIONS = { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false }

export function encodeBundle (bundle: MembershipBundle): Uint8Array {
  return encode(bundle)
}

/** The bundle, or a one-line reason it is not one. */
export function decodeBundle (bytes: Uint8Array): MembershipBundle | string {
  let value: unknown
  try { value = decode(bytes, DECODE_OPTIONS) } catch (err) { return `not CBOR: ${(err as Error).message}` }
  const c = new Checker(5)
  const bundle = readBundle(c, 'bundle', value)
  return bundle ?? c.summary()
}

export function encodeInvitation (inv: Signed<Invitation>): Uint8Array {
  return encode(inv)
}

export function decodeInvitation (value: unknown): Signed<Invitation> | string {
  const c = new Checker(5)
  return readSigned(c, 'invitation', value, readInvitation) ?? c.summary()
}
