/**
 * Makes room for thousands of private-network streams in one process.
 *
 * The private network (agent/net/keyring-protector.ts, on the wire
 * @libp2p/pnet's) encrypts with the xsalsa20 package, which keeps every
 * cipher's state (64 bytes, released when its connection closes) and its scratch space in one
 * WebAssembly memory per process: 640 KiB at first, at most 64 MiB. When that
 * memory grows, every open cipher's cached view of it goes stale and each one
 * grows it again on its next use, until the cap, and the process dies
 * (measured: at about 9,200 ciphers, which 100 agents in one process reach).
 * Growing it once, before any cipher exists, leaves room for about 250,000.
 * A real agent holds a few hundred at most, so only the lab needs this.
 */
import xsalsa20 from 'xsalsa20'

export const PNET_CIPHER_MEMORY_BYTES = 16 << 20
const NONCE_BYTES = 24
const KEY_BYTES = 32

let presized = false

/** Grows xsalsa20's memory once; call before the first node of the process starts. */
export function presizePnetCipherMemory (): void {
  if (presized) return
  presized = true
  const cipher = xsalsa20(new Uint8Array(NONCE_BYTES), new Uint8Array(KEY_BYTES))
  cipher.update(new Uint8Array(PNET_CIPHER_MEMORY_BYTES))
  cipher.finalize()
}
