/**
 * Envelope signatures for the tiered dissemination (docs/design.md §9.8).
 * Gossipsub signs each message it carries; relayed items travel inside
 * another peer's message, so each carries its author's own signature over
 * the envelope's bytes. Public keys come from the peer ids (ed25519 keys
 * are inlined in them) and are kept: decoding a key per check cost a third
 * more than the check itself (§9.7).
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { PrivateKey, PublicKey } from '@libp2p/interface'
import type { SignedItem } from '../../../lib/wire/relay.ts'

export async function signItem (key: PrivateKey, bytes: Uint8Array): Promise<SignedItem> {
  return { e: bytes, s: await key.sign(bytes) }
}

export class Verifier {
  private readonly keys = new Map<string, PublicKey | null>()

  /** True when `item` was signed by the key of `peerId`. */
  async verify (item: SignedItem, peerId: string): Promise<boolean> {
    const key = this.key(peerId)
    if (key === null) return false
    try {
      return await key.verify(item.e, item.s)
    } catch {
      return false
    }
  }

  private key (peerId: string): PublicKey | null {
    let key = this.keys.get(peerId)
    if (key === undefined) {
      try {
        key = peerIdFromString(peerId).publicKey ?? null
      } catch {
        key = null
      }
      this.keys.set(peerId, key)
    }
    return key
  }
}
