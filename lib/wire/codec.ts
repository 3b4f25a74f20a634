/**
 * CBOR encoding of envelopes, and the decoder that trusts nothing: size
 * bound first, then CBOR, then the schema (lib/wire/schema.ts). Any problem
 * becomes a WireError with a reason that the agent counts drops by.
 */
import { decode, encode } from 'cborg'
import { MAX_MESSAGE_BYTES, type Envelope, type Topic } from './messages.ts'
import { readEnvelope } from './schema.ts'

export type DropReason = 'oversized' | 'malformed' | 'schema' | 'wrong-topic'

export class WireError extends Error {
  readonly reason: DropReason
  constructor (reason: DropReason, message: string) {
    super(message)
    this.name = 'WireError'
    this.reason = reason
  }
}

export function encodeEnvelope (env: Envelope): Uint8Array {
  const bytes = encode(env)
  if (bytes.length > MAX_MESSAGE_BYTES) throw new WireError('oversized', `message of ${bytes.length} bytes exceeds ${MAX_MESSAGE_BYTES}`)
  return bytes
}

export function decodeEnvelope (bytes: Uint8Array, expected?: Topic, maxBytes = MAX_MESSAGE_BYTES): Envelope {
  if (bytes.length > maxBytes) throw new WireError('oversized', `message of ${bytes.length} bytes exceeds ${maxBytes}`)
  let value: unknown
  try {
    value = decode(bytes, { useMaps: false, rejectDuplicateMapKeys: true, allowUndefined: false, allowInfinity: false, allowNaN: false, allowBigInt: false })
  } catch (err) {
    throw new WireError('malformed', `not CBOR: ${(err as Error).message}`)
  }
  const env = readEnvelope(value)
  if (typeof env === 'string') throw new WireError('schema', env)
  if (expected !== undefined && env.topic !== expected) throw new WireError('wrong-topic', `a ${env.topic} message on the ${expected} topic`)
  return env
}
