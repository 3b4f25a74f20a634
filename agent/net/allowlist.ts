/**
 * Closed membership: a connection gater that lets only allowlisted peer ids
 * connect, in either direction. The pre-shared key keeps strangers from
 * speaking at all; the allowlist keeps out a holder of the key whose identity
 * is not (or no longer) a member, and also admits observers that are not hosts.
 */
import type { ConnectionGater, PeerId } from '@libp2p/interface'

/**
 * Peer ids (base58 strings) allowed to connect, or a predicate over them.
 * A predicate is consulted on every connection, so membership can change
 * at run time without restarting the node.
 */
export type Allowlist = ReadonlySet<string> | ((peerId: string) => boolean)

/** True when `peerId` is on the allowlist. */
export function isAllowed (allow: Allowlist, peerId: PeerId | string): boolean {
  const id = peerId.toString()
  return typeof allow === 'function' ? allow(id) : allow.has(id)
}

/**
 * A gater refusing non-members before dialing (when the peer id is known) and
 * right after the encryption handshake proves the remote's identity.
 *
 * `probation` (signed membership, docs/design.md §3.7) lets a peer that is
 * not allowed connect to us, never the other way: a new host must reach a
 * member to present its invitation, and the member closes it again if it
 * is not admitted within a bound (agent/membership/probation.ts). We never
 * dial such a peer, so nothing of ours (DHT, gossip) reaches out to it.
 */
export function allowlistGater (allow: Allowlist, probation?: (peerId: string) => boolean, refused?: (peerId: string) => void): ConnectionGater {
  const deny = (peer: PeerId): boolean => !isAllowed(allow, peer)
  const denyInbound = (peer: PeerId): boolean => deny(peer) && probation?.(peer.toString()) !== true
  return {
    denyDialPeer: deny,
    // Said once per attempt (the first check after the handshake proved who it is): a refused host must not wait in silence (issue 18).
    denyInboundEncryptedConnection: (peer) => {
      const no = denyInbound(peer)
      if (no) refused?.(peer.toString())
      return no
    },
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: denyInbound,
    denyOutboundUpgradedConnection: deny
  }
}
