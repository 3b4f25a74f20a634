/**
 * Request/response on one long-lived stream per peer and protocol, for
 * protocols that exchange small messages all the time (the tiered relay,
 * docs/design.md §9.8). request.ts opens a stream per exchange: yamux open
 * and close, a multistream-select round trip, window updates (about ten
 * encrypted frames) and a peer-store write on the answering side. At 64
 * tiered agents that was most of the agents' CPU (a profile: 25% in noise,
 * 17% in peer-store merges). Here an exchange is two frames: a request and
 * its answer, matched by id.
 *
 * Frames are length-prefixed (varint) canonical CBOR:
 *   request  { i: id, q: body }
 *   answer   { i: id, a: { ok: true, body } | { ok: false, code, message } }
 * The answer envelope and its error codes are request.ts's. A frame that
 * cannot be read leaves the stream's framing unknown: the stream is reset and
 * whatever was pending on it fails; the next request opens a new one.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import { LengthPrefixedDecoder } from '@libp2p/utils'
import { decode, encode } from 'cborg'
import { ChannelClosedError, MessageTooLargeError, ProtocolError, RemoteError, RequestTimeoutError } from './errors.ts'
import { DECODE_OPTIONS, envelopeOf, type RequestHandler } from './request.ts'
import type { ClusterNode } from './node.ts'
import type { Stream } from '@libp2p/interface'

/** A decoded frame's bytes (the decoder's Uint8ArrayList, of whichever copy of that package it uses). */
interface Frame { subarray: () => Uint8Array }

/** Room for the frame's own fields around a body of maxBytes. */
const FRAME_OVERHEAD = 64

export interface ChannelOptions {
  /** Largest request or answer body, in bytes. */
  maxBytes: number
  /** Time for one exchange (the stream's opening included), in ms. */
  timeoutMs: number
  /** Exchanges in flight on one stream, each way; more are refused at once. */
  maxInFlight?: number
  /**
   * Called when our stream to `peer` ends (it died, or its connection
   * closed), not when we stop: what we route through that peer may go
   * elsewhere at once instead of at our next request's failure.
   */
  closed?: (peer: string) => void
}

interface Pending { resolve: (body: unknown) => void, reject: (err: Error) => void, timer: ReturnType<typeof setTimeout> }
interface Outbound { stream: Stream, pending: Map<number, Pending> }

export class Channels {
  private readonly node: ClusterNode
  private readonly protocol: string
  private readonly handler: RequestHandler
  private readonly opts: Required<Omit<ChannelOptions, 'closed'>> & Pick<ChannelOptions, 'closed'>
  /** Our streams to each peer (a promise while one opens, so concurrent requests share it). */
  private readonly out = new Map<string, Promise<Outbound>>()
  private readonly served = new Set<Stream>()
  private nextId = 0
  private stopped = false

  constructor (node: ClusterNode, protocol: string, handler: RequestHandler, options: ChannelOptions) {
    this.node = node
    this.protocol = protocol
    this.handler = handler
    this.opts = { maxInFlight: 256, ...options }
  }

  async start (): Promise<void> {
    await this.node.libp2p.handle(this.protocol, (stream, connection) => {
      this.serve(stream, connection.remotePeer.toString())
    }, { maxInboundStreams: 4 })
  }

  async stop (): Promise<void> {
    this.stopped = true
    await this.node.libp2p.unhandle(this.protocol)
    const outs = await Promise.allSettled([...this.out.values()])
    this.out.clear()
    for (const o of outs) if (o.status === 'fulfilled') o.value.stream.abort(new Error('stopping'))
    for (const s of this.served) s.abort(new Error('stopping'))
    this.served.clear()
  }

  /**
   * Sends `body` to `peer` and resolves with the answer's body (to be
   * validated by the caller). Throws MessageTooLargeError before sending,
   * RequestTimeoutError, RemoteError when the other side refused, and
   * ChannelClosedError when the stream ended first.
   */
  async request (peer: string, body: unknown): Promise<unknown> {
    if (this.stopped) throw new ChannelClosedError(peer, 'stopped')
    const id = this.nextId++
    const bytes = encode({ i: id, q: body })
    if (bytes.byteLength > this.opts.maxBytes + FRAME_OVERHEAD) throw new MessageTooLargeError(bytes.byteLength, this.opts.maxBytes)
    const started = Date.now()
    const ch = await this.channel(peer)
    if (ch.pending.size >= this.opts.maxInFlight) throw new RemoteError('handler-failed', `${ch.pending.size} requests already in flight to ${peer}`)
    return await new Promise((resolve, reject) => {
      const left = Math.max(1, this.opts.timeoutMs - (Date.now() - started))
      const timer = setTimeout(() => {
        ch.pending.delete(id)
        reject(new RequestTimeoutError(this.protocol, peer, this.opts.timeoutMs))
      }, left)
      ch.pending.set(id, { resolve, reject, timer })
      try {
        ch.stream.send(withLength(bytes))
      } catch (err) {
        clearTimeout(timer)
        ch.pending.delete(id)
        reject(new ChannelClosedError(peer, (err as Error).message))
      }
    })
  }

  /** Opens our stream to `peer` now unless one is open or opening: a later request need not wait for it. A failure here is the next request's to meet. */
  warm (peer: string): void {
    if (this.stopped) return
    this.channel(peer).catch(() => {})
  }

  private async channel (peer: string): Promise<Outbound> {
    let ch = this.out.get(peer)
    if (ch === undefined) {
      ch = this.open(peer)
      this.out.set(peer, ch)
      ch.catch(() => { if (this.out.get(peer) === ch) this.out.delete(peer) })
    }
    return await ch
  }

  private async open (peer: string): Promise<Outbound> {
    const stream = await this.node.libp2p.dialProtocol(peerIdFromString(peer), this.protocol, { signal: AbortSignal.timeout(this.opts.timeoutMs) })
    const ch: Outbound = { stream, pending: new Map() }
    const decoder = this.decoder()
    const self = this.out.get(peer)
    const fail = (why: string): void => {
      if (this.out.get(peer) === self) this.out.delete(peer)
      for (const [, p] of ch.pending) { clearTimeout(p.timer); p.reject(new ChannelClosedError(peer, why)) }
      ch.pending.clear()
    }
    stream.addEventListener('message', (evt) => {
      try {
        for (const frame of decoder.decode(evt.data)) this.answer(ch, frame)
      } catch (err) {
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('close', (evt) => {
      fail(evt.error?.message ?? 'the stream ended')
      if (!this.stopped) this.opts.closed?.(peer)
    })
    // The other side never writes first or closes its half while serving.
    stream.addEventListener('remoteCloseWrite', () => { stream.abort(new ProtocolError('the other side closed its half')) })
    return ch
  }

  /** One answer frame on our stream: settles its request. */
  private answer (ch: Outbound, frame: Frame): void {
    const msg = decodeFrame(frame)
    if (typeof msg.i !== 'number' || !('a' in msg)) throw new ProtocolError('answer frame without id and answer')
    const p = ch.pending.get(msg.i)
    if (p === undefined) return // answered after its timeout
    ch.pending.delete(msg.i)
    clearTimeout(p.timer)
    try {
      const envelope = envelopeOf(msg.a)
      if (envelope.ok) p.resolve(envelope.body)
      else p.reject(new RemoteError(envelope.code, envelope.message))
    } catch (err) {
      p.reject(err as Error)
    }
  }

  /** A peer's stream to us: answer each request frame, in any order. */
  private serve (stream: Stream, peer: string): void {
    if (this.stopped) { stream.abort(new Error('stopping')); return }
    this.served.add(stream)
    const decoder = this.decoder()
    let inFlight = 0
    const reply = (id: number, a: unknown): void => {
      let bytes = encode({ i: id, a })
      if (bytes.byteLength > this.opts.maxBytes + FRAME_OVERHEAD) bytes = encode({ i: id, a: { ok: false, code: 'handler-failed', message: `response of ${bytes.byteLength} bytes exceeds ${this.opts.maxBytes}` } })
      try { stream.send(withLength(bytes)) } catch { /* the stream ended: the requester's side fails its pending requests */ }
    }
    const run = async (id: number, body: unknown): Promise<void> => {
      const signal = AbortSignal.timeout(this.opts.timeoutMs)
      inFlight++
      try {
        reply(id, { ok: true, body: await this.handler(body, { peer, protocol: this.protocol, signal }) })
      } catch (err) {
        reply(id, { ok: false, code: signal.aborted ? 'timeout' : 'handler-failed', message: (err as Error).message })
      } finally {
        inFlight--
      }
    }
    stream.addEventListener('message', (evt) => {
      try {
        for (const frame of decoder.decode(evt.data)) {
          const msg = decodeFrame(frame)
          if (typeof msg.i !== 'number' || !('q' in msg)) throw new ProtocolError('request frame without id and body')
          if (inFlight >= this.opts.maxInFlight) { reply(msg.i, { ok: false, code: 'handler-failed', message: `${inFlight} requests in flight` }); continue }
          void run(msg.i, msg.q)
        }
      } catch (err) {
        stream.abort(err as Error)
      }
    })
    stream.addEventListener('close', () => { this.served.delete(stream) })
  }

  private decoder (): LengthPrefixedDecoder {
    const max = this.opts.maxBytes + FRAME_OVERHEAD
    return new LengthPrefixedDecoder({ maxDataLength: max, maxBufferSize: 4 * max })
  }
}

function decodeFrame (frame: Frame): Record<string, unknown> {
  let value: unknown
  try {
    value = decode(frame.subarray(), DECODE_OPTIONS)
  } catch (err) {
    throw new ProtocolError(`frame is not canonical CBOR: ${(err as Error).message}`)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new ProtocolError('frame is not a map')
  return value as Record<string, unknown>
}

/** The frame with its varint length in front. */
function withLength (bytes: Uint8Array): Uint8Array {
  const head: number[] = []
  let n = bytes.byteLength
  while (n >= 0x80) { head.push((n & 0x7f) | 0x80); n = Math.floor(n / 128) }
  head.push(n)
  const out = new Uint8Array(head.length + bytes.byteLength)
  out.set(head)
  out.set(bytes, head.length)
  return out
}
