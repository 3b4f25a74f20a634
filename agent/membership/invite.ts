/**
 * A join token for a new host, from a member's config (what the cluster
 * runs by) and the admin key: `heliotrope invite` prints it, tests call it.
 */
import { readFile } from 'node:fs/promises'
import type { AgentConfig } from '../config.ts'
import type { AdminKey } from './admin-key.ts'
import { makeInvitation, type InvitationSpec } from './records.ts'
import { encodeToken, type JoinToken } from './token.ts'

/** The invitation's fields (the cluster comes from the config), and where the new host dials first. */
export interface InviteOptions extends Omit<InvitationSpec, 'cluster'> {
  /** Where the new host dials first; default: the config's member addresses, its bootstrap, and this host's listen addresses on its `address`. */
  bootstrap?: string[]
  /** The admin keys the cluster trusts now (the local agent's, after a rotation); default the config's adminKey. */
  trustedKeys?: string[]
}

/** This host's own dial addresses, from its listen addresses and its `address` (what `heliotrope init` prints as the join address). */
export function ownAddresses (config: AgentConfig): string[] {
  const self = config.members.find(m => m.host === config.host)
  if (self === undefined) return []
  if (self.addresses !== undefined) return self.addresses
  return config.listen.flatMap(l => {
    const m = /^\/ip6\/[^/]+\/tcp\/(\d+)$/.exec(l)
    return m === null ? [] : [`/ip6/${config.address}/tcp/${m[1]!}/p2p/${self.peerId}`]
  })
}

export async function buildToken (config: AgentConfig, key: AdminKey, opts: InviteOptions): Promise<{ token: string, content: JoinToken }> {
  if (config.adminKey === undefined) throw new Error('the config has no adminKey: this cluster does not use signed membership (see docs/operations.md, Adding a host)')
  const trusted = opts.trustedKeys ?? [config.adminKey]
  if (!trusted.includes(key.publicKey)) throw new Error(opts.trustedKeys === undefined ? 'this admin key is not the one the config names (adminKey): its invitations would be refused (after a rotation, run invite where the agent runs, so it can ask which keys are trusted now)' : 'this admin key is not one the cluster trusts now (heliotrope admin-key show): it was rotated away; copy the current admin.key from the host that rotated it')
  const { trustedKeys: _trusted, ...spec } = opts
  if (config.members.some(m => m.host === opts.host)) throw new Error(`${opts.host} is in the config's static members list: pick another host id, or remove it there first`)
  const bootstrap = opts.bootstrap ?? [...new Set([...config.members.flatMap(m => m.addresses ?? []), ...config.bootstrap, ...ownAddresses(config)])]
  if (bootstrap.length === 0) throw new Error('no address to give the new host: pass --bootstrap /ip6/ADDR/tcp/PORT/p2p/PEER-ID (a member\'s)')
  const content: JoinToken = {
    invitation: makeInvitation(key, { cluster: config.cluster, ...spec }),
    psk: await readFile(config.pskFile, 'utf8'),
    topology: await readFile(config.topologyFile, 'utf8'),
    bootstrap,
    members: config.members,
    observers: config.observers,
    // The key that signed the invitation: after a rotation the new host trusts the new key from its start (docs/design.md §3.7.1).
    adminKey: key.publicKey,
    roundPeriodMs: config.roundPeriodMs
  }
  return { token: encodeToken(content), content }
}

/** `30s`, `15m`, `1h`, `7d` in ms. */
export function parseDuration (text: string): number | undefined {
  const m = /^(\d+)(s|m|h|d)$/.exec(text)
  if (m === null) return undefined
  return Number(m[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[m[2] as 's' | 'm' | 'h' | 'd']
}
