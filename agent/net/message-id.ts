/**
 * gossipsub's fast message id: the key of its first duplicate check, taken
 * from the raw RPC message before anything is verified. Every gossiped
 * message reaches a node once per mesh peer (D copies, about 6); without
 * this key each copy is signature-checked before the library notices it is
 * a duplicate, and at 64 agents those checks were most of an agent's CPU.
 *
 * Under StrictSign the message id is author + sequence number, so this key
 * names exactly the same messages. It is safe against forgery: the library
 * files a key only after the message's signature checked out, so a forged
 * copy carrying a real author and sequence number is verified (and fails)
 * instead of shadowing the real one.
 */
import { toString } from 'uint8arrays/to-string'

/** The fields of a raw gossipsub RPC message the key is made of. */
export interface RawMessageIds {
  from?: Uint8Array
  seqno?: Uint8Array
}

export function fastMessageId (msg: RawMessageIds): string {
  // base64url has no '/', so the separator keeps the fields apart.
  // A message without either field fails StrictSign validation and is never filed.
  return `${toString(msg.from ?? new Uint8Array(), 'base64url')}/${toString(msg.seqno ?? new Uint8Array(), 'base64url')}`
}
