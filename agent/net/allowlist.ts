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
 */
export function allowlistGater (allow: Allowlist): ConnectionGater {
  const deny = (peer: PeerId): boolean => !isAllowed(allow, peer)
  return {
    denyDialPeer: deny,
    denyInboundEncryptedConnection: deny,
    denyOutboundEncryptedConnection: deny,
    denyInboundUpgradedConnection: deny,
    denyOutboundUpgradedConnection: deny
  }
}
