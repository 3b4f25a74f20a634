/**
 * The join token `heliotrope invite` prints and `heliotrope init --join`
 * reads: the admin-signed invitation, plus what a new host needs to reach
 * the cluster and to run as its members do (the PSK, the topology file,
 * bootstrap addresses, the static member list, the admin public key, the
 * round period). It carries the PSK, so it is a secret: pass it as you
 * would the psk file, and let it expire (`--ttl`).
 *
 * Text form: `hlt1.` and base64url of the deflated CBOR, one word to paste.
 */
import { decode, encode } from 'cborg'
import { deflateRawSync, inflateRawSync } from 'node:zlib'
import { Checker, type Json } from '../../lib/check.ts'
import { type Invitation, type Signed } from '../../lib/membership.ts'
import { readInvitation, readSigned } from '../../lib/membership-wire.ts'
import type { Member } from '../config.ts'

export const TOKEN_PREFIX = 'hlt1.'
/** A token inflates to this much at most: a bound on what a pasted word can make us allocate. */
const MAX_TOKEN_BYTES = 1024 * 1024

export interface JoinToken {
  invitation: Signed<Invitation>
  /** The psk file's text. */
  psk: string
  /** The topology file's text, byte for byte (its sha256 must match every member's). */
  topology: string
  bootstrap: string[]
  members: Member[]
  observers: string[]
  adminKey: string
  roundPeriodMs: number
}

export function isToken (text: string): boolean {
  return text.startsWith(TOKEN_PREFIX)
}

export function encodeToken (token: JoinToken): string {
  return TOKEN_PREFIX + Buffer.from(deflateRawSync(encode(token))).toString('base64url')
}

/** Reads a token; throws an Error saying what is wrong (for the CLI to print). */
export function decodeToken (text: string): JoinToken {
  if (!isToken(text)) throw new Error(`a join token starts with ${TOKEN_PREFIX}`)
  let value: Json
  try {
    const bytes = inflateRawSync(Buffer.from(text.slice(TOKEN_PREFIX.length).trim(), 'base64url'), { maxOutputLength: MAX_TOKEN_BYTES })
    value = decode(bytes, { strict: true, rejectDuplicateMapKeys: true })
  } catch (err) {
    throw new Error(`the join token is damaged (${(err as Error).message}); copy it again, whole`)
  }
  const c = new Checker()
  const o = c.object('token', value)
  if (o === undefined) throw new Error(c.summary())
  const invitation = readSigned(c, 'token.invitation', o.invitation, readInvitation)
  const strings = (path: string, v: Json): string[] => (c.array(path, v) ?? []).map((x, i) => c.string(`${path}[${i}]`, x) ?? '')
  const token = {
    invitation,
    psk: c.string('token.psk', o.psk, { nonEmpty: true }),
    topology: c.string('token.topology', o.topology, { nonEmpty: true }),
    bootstrap: strings('token.bootstrap', o.bootstrap),
    members: (c.array('token.members', o.members) ?? []) as Member[],
    observers: strings('token.observers', o.observers),
    adminKey: c.string('token.adminKey', o.adminKey, { nonEmpty: true }),
    roundPeriodMs: c.number('token.roundPeriodMs', o.roundPeriodMs, { integer: true, positive: true })
  }
  // The member entries are checked where they land: in the config init writes (parseConfig).
  if (!c.ok) throw new Error(`not a heliotrope join token: ${c.summary()}`)
  return token as JoinToken
}
