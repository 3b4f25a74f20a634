/**
 * Test helper: a small cluster of real nodes on [::1] (or the memory
 * transport). The hub (node 0 unless told) starts alone; the others start in
 * parallel and bootstrap to it.
 */
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { createNode } from '../../../agent/net/node.ts'
import { generatePsk } from '../../../agent/net/keys.ts'
import type { Allowlist } from '../../../agent/net/allowlist.ts'
import type { ClusterNode, NodeInit } from '../../../agent/net/node.ts'
import type { PrivateKey } from '@libp2p/interface'

export const LOOPBACK_LISTEN = ['/ip6/::1/tcp/0']

export interface Member {
  privateKey: PrivateKey
  peerId: string
}

export async function makeMembers (n: number): Promise<Member[]> {
  return await Promise.all(Array.from({ length: n }, async () => {
    const privateKey = await generateKeyPair('Ed25519')
    return { privateKey, peerId: peerIdFromPrivateKey(privateKey).toString() }
  }))
}

export interface ClusterOptions {
  cluster?: string
  psk?: Uint8Array
  /** Allowlist for node i; default: every member. */
  allow?: (i: number, members: Member[]) => Allowlist
  /** Extra init for node i. */
  init?: (i: number) => Partial<NodeInit>
  transport?: 'tcp' | 'memory'
  /** The node the others bootstrap to; default 0. */
  hub?: number
  /** How long each node may take to reach the hub; default 15 s. */
  bootstrapMs?: number
}

/** Anything with a teardown hook (an ava ExecutionContext). */
export interface Teardown { teardown(fn: () => Promise<void> | void): void }

export async function startCluster (t: Teardown, n: number, options: ClusterOptions = {}): Promise<ClusterNode[]> {
  const members = await makeMembers(n)
  const everyone = new Set(members.map(m => m.peerId))
  const psk = options.psk ?? generatePsk()
  const transport = options.transport ?? 'tcp'
  const make = async (i: number, bootstrap: string[]): Promise<ClusterNode> => {
    const node = await createNode({
      cluster: options.cluster ?? 'test',
      privateKey: members[i]!.privateKey,
      psk,
      allow: options.allow?.(i, members) ?? everyone,
      transport,
      ...(transport === 'tcp' ? { listen: LOOPBACK_LISTEN } : {}),
      bootstrap,
      ...options.init?.(i)
    })
    t.teardown(async () => { await node.stop() })
    return node
  }
  const hubIndex = options.hub ?? 0
  const hub = await make(hubIndex, [])
  const others = await Promise.all(members.map(async (_, i) => {
    if (i === hubIndex) return hub
    const node = await make(i, hub.addresses())
    const connected = await node.bootstrap({ timeoutMs: options.bootstrapMs ?? 15_000 })
    if (connected.length !== 1) throw new Error(`node ${i} could not reach the bootstrap node`)
    return node
  }))
  return others
}
