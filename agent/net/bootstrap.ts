/**
 * Joining the cluster: dial a few known members by multiaddr. They are tagged
 * keep-alive so libp2p redials them after a drop; the DHT's self-query then
 * finds the rest of the cluster through them.
 */
import { KEEP_ALIVE } from '@libp2p/interface'
import { peerIdFromString } from '@libp2p/peer-id'
import { CODE_P2P, multiaddr } from '@multiformats/multiaddr'
import type { Libp2p, PeerId } from '@libp2p/interface'
import type { Ping } from '@libp2p/ping'
import type { Multiaddr } from '@multiformats/multiaddr'

/** How long bootstrap() keeps trying, in ms. */
export const DEFAULT_BOOTSTRAP_TIMEOUT_MS = 20_000
/** Pause between attempts to reach one bootstrap peer, in ms. */
export const DEFAULT_BOOTSTRAP_RETRY_MS = 500

export interface BootstrapOptions {
  timeoutMs?: number
  retryMs?: number
  signal?: AbortSignal
}

/** Splits `/ip6/.../tcp/4001/p2p/<id>` into the peer id and its address. */
export function parseBootstrapAddr (text: string): { peerId: PeerId, addr: Multiaddr } {
  const ma = multiaddr(text)
  const id = ma.getComponents().findLast(c => c.code === CODE_P2P)?.value
  if (id === undefined) throw new TypeError(`bootstrap address needs /p2p/<peer id>: ${text}`)
  return { peerId: peerIdFromString(id), addr: ma.decapsulateCode(CODE_P2P) }
}

/**
 * Dials every bootstrap address (except our own) in parallel, retrying until
 * connected or the deadline. Never throws for an unreachable peer: resolves
 * with the peer ids it is connected to, possibly none.
 *
 * A dial alone proves little: the remote's gater decides after the handshake,
 * while our side may already hold an optimistically upgraded connection. A
 * ping afterwards shows the remote really accepted us.
 */
export async function dialBootstrap (libp2p: Libp2p<{ ping: Ping }>, addrs: readonly string[], options: BootstrapOptions = {}): Promise<string[]> {
  const deadline = Date.now() + (options.timeoutMs ?? DEFAULT_BOOTSTRAP_TIMEOUT_MS)
  const retryMs = options.retryMs ?? DEFAULT_BOOTSTRAP_RETRY_MS
  const targets = addrs.map(parseBootstrapAddr).filter(t => !t.peerId.equals(libp2p.peerId))
  const results = await Promise.all(targets.map(async ({ peerId, addr }) => {
    await libp2p.peerStore.merge(peerId, { multiaddrs: [addr], tags: { [KEEP_ALIVE]: { value: 1 } } })
    while (options.signal?.aborted !== true) {
      const left = deadline - Date.now()
      if (left <= 0) return undefined
      try {
        const signal = options.signal === undefined
          ? AbortSignal.timeout(left)
          : AbortSignal.any([options.signal, AbortSignal.timeout(left)])
        await libp2p.dial(addr.encapsulate(`/p2p/${peerId.toString()}`), { signal })
        await libp2p.services.ping.ping(peerId, { signal })
        return peerId.toString()
      } catch {
        // Not up yet, refused, or timed out: try again until the deadline.
        await new Promise(resolve => setTimeout(resolve, Math.min(retryMs, Math.max(0, deadline - Date.now()))))
      }
    }
    return undefined
  }))
  return results.filter((id): id is string => id !== undefined)
}
