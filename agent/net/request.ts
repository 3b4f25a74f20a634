/**
 * Request/response over a libp2p stream protocol: one CBOR request, one CBOR
 * response, each length-prefixed (varint) and bounded in size, the whole
 * exchange bounded in time. The handler's answer travels in an envelope so a
 * refusal (too large, malformed, handler failure) reaches the caller as a
 * RemoteError with a code instead of a silent reset.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { lpStream } from '@libp2p/utils'
import { decode, encode } from 'cborg'
import { MessageTooLargeError, ProtocolError, RemoteError, RequestTimeoutError } from './errors.ts'
import type { RemoteErrorCode } from './errors.ts'
import type { ClusterNode } from './node.ts'
import type { PeerId, Stream } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'

/** Largest request or response body, in bytes, unless the protocol says otherwise. */
export const DEFAULT_REQUEST_MAX_BYTES = 64 * 1024
/** Time for a whole exchange (dial, send, handle, answer), in ms. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000
/** Concurrent inbound streams per connection for one protocol. */
export const DEFAULT_MAX_INBOUND_STREAMS = 16

// Strict decoding: canonical CBOR only, no duplicate keys, no `undefined`.
export const DECODE_OPTIONS = { strict: true, rejectDuplicateMapKeys: true, allowUndefined: false }

export interface ProtocolOptions {
  maxBytes?: number
  timeoutMs?: number
}

export interface HandlerContext {
  /** The requesting peer (authenticated by the connection's handshake). */
  peer: string
  protocol: string
  /** Aborts when the exchange runs out of time. */
  signal: AbortSignal
}

/** Answers one request body (already CBOR-decoded, not yet validated). */
export type RequestHandler = (body: unknown, context: HandlerContext) => unknown

type Envelope =
  | { ok: true, body: unknown }
  | { ok: false, code: RemoteErrorCode, message: string }

/**
 * Serves `protocol` with `handler`. Returns a function that stops serving.
 */
export async function handle (
  node: ClusterNode,
  protocol: string,
  handler: RequestHandler,
  options: ProtocolOptions & { maxInboundStreams?: number } = {}
): Promise<() => Promise<void>> {
  const maxBytes = options.maxBytes ?? DEFAULT_REQUEST_MAX_BYTES
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  await node.libp2p.handle(protocol, async (stream, connection) => {
    const signal = AbortSignal.timeout(timeoutMs)
    const lp = lpStream(stream, { maxDataLength: maxBytes })
    const reply = async (envelope: Envelope): Promise<void> => {
      let bytes = encode(envelope)
      if (bytes.byteLength > maxBytes) {
        bytes = encode({ ok: false, code: 'handler-failed', message: `response of ${bytes.byteLength} bytes exceeds ${maxBytes}` })
      }
      await lp.write(bytes, { signal })
      await stream.close({ signal })
    }
    try {
      let raw: Uint8Array
      try {
        raw = (await lp.read({ signal })).subarray()
      } catch (err) {
        const name = (err as Error).name
        if (name === 'InvalidDataLengthError' || name === 'InvalidDataLengthLengthError') {
          await reply({ ok: false, code: 'too-large', message: `request exceeds ${maxBytes} bytes` })
          // Drop the rest of the oversized upload instead of buffering it.
          stream.abort(new MessageTooLargeError(maxBytes + 1, maxBytes))
          return
        }
        throw err
      }
      let body: unknown
      try {
        body = decode(raw, DECODE_OPTIONS)
      } catch (err) {
        await reply({ ok: false, code: 'bad-request', message: `not canonical CBOR: ${(err as Error).message}` })
        return
      }
      let answer: unknown
      try {
        answer = await handler(body, { peer: connection.remotePeer.toString(), protocol, signal })
      } catch (err) {
        await reply({ ok: false, code: signal.aborted ? 'timeout' : 'handler-failed', message: (err as Error).message })
        return
      }
      await reply({ ok: true, body: answer })
    } catch (err) {
      stream.abort(err as Error)
    }
  }, { maxInboundStreams: options.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS })
  return async () => { await node.libp2p.unhandle(protocol) }
}

/**
 * Sends `body` to `peer` on `protocol` and resolves with the decoded answer
 * (to be validated by the caller). Throws MessageTooLargeError before sending
 * an oversized body, RequestTimeoutError, RemoteError when the handler side
 * refused, ProtocolError for a malformed answer.
 */
export async function request (
  node: ClusterNode,
  peer: string | PeerId | Multiaddr,
  protocol: string,
  body: unknown,
  options: ProtocolOptions & { signal?: AbortSignal } = {}
): Promise<unknown> {
  const maxBytes = options.maxBytes ?? DEFAULT_REQUEST_MAX_BYTES
  const timeoutMs = options.timeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS
  const bytes = encode(body)
  if (bytes.byteLength > maxBytes) throw new MessageTooLargeError(bytes.byteLength, maxBytes)
  const target = typeof peer === 'string' ? peerIdFromString(peer) : peer
  const timeout = AbortSignal.timeout(timeoutMs)
  const signal = options.signal === undefined ? timeout : AbortSignal.any([options.signal, timeout])

  let stream: Stream | undefined
  try {
    stream = await node.libp2p.dialProtocol(target, protocol, { signal })
    const lp = lpStream(stream, { maxDataLength: maxBytes })
    // Read while writing: a handler may refuse before our upload completes.
    const open = stream
    const sending = lp.write(bytes, { signal }).then(async () => { await open.close({ signal }) })
    sending.catch(() => {})
    const answer = await lp.read({ signal })
    const envelope = parseEnvelope(answer.subarray())
    if (!envelope.ok) throw new RemoteError(envelope.code, envelope.message)
    return envelope.body
  } catch (err) {
    stream?.abort(err as Error)
    if (timeout.aborted && options.signal?.aborted !== true) throw new RequestTimeoutError(protocol, target.toString(), timeoutMs)
    throw err
  }
}

/** Reads a reply's envelope strictly; throws ProtocolError (exported for the fuzzer). */
export function parseEnvelope (raw: Uint8Array): Envelope {
  let value: unknown
  try {
    value = decode(raw, DECODE_OPTIONS)
  } catch (err) {
    throw new ProtocolError(`answer is not canonical CBOR: ${(err as Error).message}`)
  }
  return envelopeOf(value)
}

/** A decoded answer envelope, checked; throws ProtocolError (shared with channel.ts). */
export function envelopeOf (value: unknown): Envelope {
  if (typeof value !== 'object' || value === null) throw new ProtocolError('answer is not a map')
  const v = value as Record<string, unknown>
  if (v.ok === true && 'body' in v) return { ok: true, body: v.body }
  const codes: RemoteErrorCode[] = ['too-large', 'bad-request', 'handler-failed', 'timeout']
  if (v.ok === false && codes.includes(v.code as RemoteErrorCode) && typeof v.message === 'string') {
    return { ok: false, code: v.code as RemoteErrorCode, message: v.message }
  }
  throw new ProtocolError('answer is not a valid envelope')
}
