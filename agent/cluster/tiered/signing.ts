/**
 * Envelope signatures for the tiered dissemination (docs/design.md §9.8).
 * Gossipsub signs each message it carries; relayed items travel inside
 * another peer's message, so each carries its author's own signature over
 * the envelope's bytes. Public keys come from the peer ids (ed25519 keys
 * are inlined in them).
 *
 * Both sides keep node's KeyObject: @libp2p/crypto builds one from a JWK
 * for every sign and every check, which cost about as much as the ed25519
 * operation itself (a CPU profile of 16 tiered agents: 190 ms of key
 * building beside 293 ms of checks).
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey } from '@libp2p/interface'
import type { SignedItem } from '../../../lib/wire/relay.ts'

/** RFC 8410's DER prefixes: what precedes a raw ed25519 key in SPKI and PKCS#8. */
const SPKI_ED25519 = Uint8Array.from([0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00])
const PKCS8_ED25519 = Uint8Array.from([0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20])

function der (prefix: Uint8Array, key: Uint8Array): Buffer {
  return Buffer.concat([prefix, key])
}

/** Signs envelopes with this host's peer key (ed25519 only: the cluster's keys are). */
export class Signer {
  private readonly key: KeyObject

  constructor (privateKey: PrivateKey) {
    if (privateKey.type !== 'Ed25519') throw new Error(`tiered dissemination needs an Ed25519 peer key, not ${privateKey.type}`)
    // libp2p keeps seed and public key together (64 bytes); PKCS#8 wants the seed.
    this.key = createPrivateKey({ key: der(PKCS8_ED25519, privateKey.raw.subarray(0, 32)), format: 'der', type: 'pkcs8' })
  }

  sign (bytes: Uint8Array): SignedItem {
    return { e: bytes, s: new Uint8Array(sign(null, bytes, this.key)) }
  }
}

export class Verifier {
  private readonly keys = new Map<string, KeyObject | null>()

  /** True when `item` was signed by the key of `peerId`. */
  verify (item: SignedItem, peerId: string): boolean {
    const key = this.key(peerId)
    if (key === null || item.s.byteLength !== 64) return false
    try {
      return verify(null, item.e, key, item.s)
    } catch {
      return false
    }
  }

  private key (peerId: string): KeyObject | null {
    let key = this.keys.get(peerId)
    if (key === undefined) {
      try {
        const pub = peerIdFromString(peerId).publicKey
        key = pub?.type === 'Ed25519' ? createPublicKey({ key: der(SPKI_ED25519, pub.raw), format: 'der', type: 'spki' }) : null
      } catch {
        key = null
      }
      this.keys.set(peerId, key)
    }
    return key
  }
}
