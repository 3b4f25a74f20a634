/**
 * The private network's connection protector, with a keyring so the cluster
 * key can be rotated without downtime.
 *
 * On the wire it is @libp2p/pnet's: both ends send a 24-byte nonce, then
 * each direction is XSalsa20 under (its sender's nonce, the key). pnet has
 * one key for both directions; here a host speaks with the first key of its
 * ring and accepts any of them: it finds the remote's key by the first bytes
 * it receives, which are always multistream-select's header (libp2p
 * negotiates the encrypter next, and both ends start with it). A key that
 * does not turn those bytes into the header is not the remote's; with no
 * match the connection is closed (and counted), as pnet's garbage would be.
 *
 * Rotation is then three reloads per host, no restart (docs/operations.md):
 * add the new key second (every host accepts it), put it first (hosts speak
 * it; those not there yet still accept it), remove the old one. Connections
 * keep the key they started with, so none drops.
 */
import type { AbortOptions, ConnectionProtector, MessageStream, MultiaddrConnection } from '@libp2p/interface'
import { AbstractMultiaddrConnection, byteStream } from '@libp2p/utils'
import xsalsa20 from 'xsalsa20'

const NONCE_LENGTH = 24
/** pnet's default: the nonce exchange must finish within this. */
const NONCE_TIMEOUT_MS = 1000
/** multistream-select's first message: its varint length (19), then the protocol line. */
const HEADER = Uint8Array.from([19, ...new TextEncoder().encode('/multistream/1.0.0\n')])

/**
 * The keys this host accepts, the first the one it speaks with. Swapped
 * whole by a reload; only new connections take the new keys. Open ones
 * keep theirs, also once that key is removed: closing them would cut every
 * host off the mesh for a moment at the rotation's last step (measured: a
 * round without a plan), and a connection still needs a member's peer key
 * (the allowlist), so an old cluster key alone opens nothing new.
 */
export class Keyring {
  private current: readonly Uint8Array[]
  /** Connections closed because the remote spoke no key of ours. */
  refused = 0

  constructor (keys: readonly Uint8Array[]) {
    this.current = Keyring.checked(keys)
  }

  get keys (): readonly Uint8Array[] {
    return this.current
  }

  set (keys: readonly Uint8Array[]): void {
    this.current = Keyring.checked(keys)
  }

  private static checked (keys: readonly Uint8Array[]): readonly Uint8Array[] {
    if (keys.length === 0) throw new RangeError('a keyring needs at least one key')
    if (keys.some(k => k.length !== 32)) throw new RangeError('cluster keys are 32 bytes')
    return [...keys]
  }
}

class KeyringProtector implements ConnectionProtector {
  private readonly ring: Keyring

  constructor (ring: Keyring) {
    this.ring = ring
  }

  async protect (connection: MessageStream, options?: AbortOptions): Promise<MessageStream> {
    const log = connection.log.newScope('keyring')
    const localNonce = crypto.getRandomValues(new Uint8Array(NONCE_LENGTH))
    const bytes = byteStream(connection)
    const signal = options?.signal ?? AbortSignal.timeout(NONCE_TIMEOUT_MS)
    const [remote] = await Promise.all([bytes.read({ bytes: NONCE_LENGTH, signal }), bytes.write(localNonce, { signal })])
    // pnet protects multiaddr connections: what the transport hands the upgrader.
    const maConn = bytes.unwrap() as MultiaddrConnection
    return new KeyringBox({ maConn, localNonce, remoteNonce: remote.subarray(), ring: this.ring, log })
  }
}

/** A connection protector factory for libp2p's `connectionProtector`, over a ring the caller keeps to reload. */
export function keyringProtector (ring: Keyring): () => ConnectionProtector {
  return () => new KeyringProtector(ring)
}

interface BoxInit {
  maConn: MultiaddrConnection
  localNonce: Uint8Array
  remoteNonce: Uint8Array
  ring: Keyring
  log: MultiaddrConnection['log']
}

type Cipher = ReturnType<typeof xsalsa20>

/** The connection inside the private network: pnet's BoxMessageStream, with the inbound key found on the first bytes. */
class KeyringBox extends AbstractMultiaddrConnection {
  private readonly maConn: MultiaddrConnection
  private readonly outbound: Cipher
  private inbound: Cipher | undefined
  private readonly keys: readonly Uint8Array[]
  private readonly remoteNonce: Uint8Array
  private readonly ring: Keyring
  /** Bytes received before the key is known (until the header's length). */
  private head = new Uint8Array(0)
  private released = false

  constructor (init: BoxInit) {
    super({ log: init.log, remoteAddr: init.maConn.remoteAddr, direction: init.maConn.direction })
    this.maConn = init.maConn
    this.keys = init.ring.keys
    this.ring = init.ring
    this.remoteNonce = init.remoteNonce
    this.outbound = xsalsa20(init.localNonce, this.keys[0]!)
    this.maConn.addEventListener('message', (evt) => {
      const data = evt.data
      if (data instanceof Uint8Array) this.receive(data)
      else for (const buf of data) this.receive(buf)
    })
    // Resume sending when the underlying connection can take more.
    this.maConn.addEventListener('drain', () => { this.onMuxerDrain() })
    this.maConn.addEventListener('close', (evt) => {
      this.release()
      if (evt.error != null) {
        if (evt.local) this.abort(evt.error)
        else this.onRemoteReset()
      } else {
        this.onTransportClosed()
      }
    })
  }

  /**
   * Frees the ciphers' state: xsalsa20 keeps it in one WebAssembly memory
   * per process until finalized (pnet never does; lab/sim/pnet-memory.ts).
   */
  private release (): void {
    if (this.released) return
    this.released = true
    this.outbound.finalize()
    this.inbound?.finalize()
  }

  private receive (buf: Uint8Array): void {
    if (this.released) return
    if (this.inbound !== undefined) { this.onData(this.inbound.update(buf)); return }
    const head = new Uint8Array(this.head.length + buf.length)
    head.set(this.head)
    head.set(buf, this.head.length)
    this.head = head
    if (head.length < HEADER.length) return
    for (const key of this.keys) {
      const cipher = xsalsa20(this.remoteNonce, key)
      const plain = cipher.update(head)
      if (HEADER.every((b, i) => plain[i] === b)) {
        this.inbound = cipher
        this.head = new Uint8Array(0)
        this.onData(plain)
        return
      }
      cipher.finalize()
    }
    this.ring.refused++
    this.abort(new Error('the remote speaks no cluster key this host has (another cluster, or a key rotated out)'))
  }

  async sendClose (options?: AbortOptions): Promise<void> {
    await this.maConn.close(options)
  }

  sendData (data: Parameters<AbstractMultiaddrConnection['sendData']>[0]): ReturnType<AbstractMultiaddrConnection['sendData']> {
    if (this.released) return { sentBytes: 0, canSendMore: false }
    return { sentBytes: data.byteLength, canSendMore: this.maConn.send(this.outbound.update(data.subarray())) }
  }

  sendReset (err: Error): void {
    this.maConn.abort(err)
  }

  sendPause (): void {
    this.maConn.pause()
  }

  sendResume (): void {
    this.maConn.resume()
  }
}

