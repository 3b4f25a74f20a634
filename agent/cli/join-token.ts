/**
 * `heliotrope init --join TOKEN` (a token from `heliotrope invite`): the
 * new host's whole setup from the token, its own module so init's flags
 * and this flow change apart. Writes the cluster key and the topology as
 * the token carries them (refusing to replace different ones: that would
 * split the cluster), the invitation into the state directory (the agent
 * presents it until a member admits it), and a config whose members,
 * observers, adminKey, round period and bootstrap are the cluster's.
 */
import { mkdir, readFile, stat, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../config.ts'
import { MembershipStore } from '../membership/store.ts'
import { decodeToken, isToken, type JoinToken } from '../membership/token.ts'
import { loadOrCreatePeerKey, parsePsk, SECRET_FILE_MODE } from '../net/keys.ts'
import { INIT_MODE } from '../policy/mode.ts'
import { UsageError } from './errors.ts'

/** The token among --join's values, if one is (the others are addresses). */
export function tokenIn (joins: readonly string[]): JoinToken | undefined {
  const tokens = joins.filter(isToken)
  if (tokens.length === 0) return undefined
  if (tokens.length > 1 || joins.length > 1) throw new UsageError('--join takes one token, or member addresses, not both')
  try { return decodeToken(tokens[0]!) } catch (err) { throw new UsageError((err as Error).message) }
}

export interface TokenInit {
  dir: string
  state: string
  address: string
  force: boolean
  files: { config: string, psk: string, topology: string }
  /** Guessed as init guesses it for a first host. */
  reserveMiB: number
  /** What init's flags say of this host alone: listen, api, collector, hypervisor (init-command.ts). */
  local: Record<string, unknown>
}

/** Writes what the token says; returns the lines init prints. */
export async function initFromToken (token: JoinToken, o: TokenInit): Promise<string[]> {
  const inv = token.invitation.body
  const out: string[] = []
  if (Date.now() > inv.joinBy) throw new UsageError(`this token could be used until ${new Date(inv.joinBy).toISOString()}: ask for a new one (heliotrope invite)`)
  await mkdir(o.dir, { recursive: true, mode: 0o755 })
  await mkdir(o.state, { recursive: true, mode: 0o700 })
  const key = await loadOrCreatePeerKey(o.state)
  out.push(key.created ? `wrote the peer key ${key.path} (mode 0600)` : `kept the existing peer key ${key.path}`)
  parsePsk(new TextEncoder().encode(token.psk))
  await writeSame(o.files.psk, token.psk, SECRET_FILE_MODE, 'cluster key')
  out.push(`wrote the cluster key ${o.files.psk} (mode 0600) from the token`)
  await writeSame(o.files.topology, token.topology, 0o644, 'topology')
  out.push(`wrote the topology ${o.files.topology} from the token`)
  await new MembershipStore(o.state).saveInvitation(token.invitation)
  out.push(`wrote the invitation ${join(o.state, 'invitation.json')}: the agent presents it to a member until it is admitted`)
  if (await exists(o.files.config) && !o.force) {
    out.push(`kept the existing config ${o.files.config} (--force rewrites it from the token)`)
  } else {
    const config = {
      cluster: inv.cluster,
      host: inv.host,
      dc: inv.dc,
      stateDir: o.state,
      bootstrap: token.bootstrap,
      pskFile: o.files.psk,
      members: token.members,
      observers: token.observers,
      adminKey: token.adminKey,
      topologyFile: o.files.topology,
      address: o.address,
      capacity: { memoryMiB: Math.max(1, Math.floor(totalmem() / 2 ** 20) - o.reserveMiB), vcpus: cpus().length },
      roundPeriodMs: token.roundPeriodMs,
      mode: INIT_MODE,
      ...o.local
    }
    try { parseConfig(config) } catch (err) { throw new UsageError(`the token makes no valid config: ${(err as Error).message}`) }
    await writeFile(o.files.config, JSON.stringify(config, null, 2) + '\n', { mode: 0o644 })
    out.push(`wrote ${o.files.config} for ${inv.host} in dc ${inv.dc} (cluster ${inv.cluster}; mode ${INIT_MODE})`)
  }
  const valid = inv.notBefore > Date.now() ? `; the invitation is valid from ${new Date(inv.notBefore).toISOString()} (started before, the agent says so and waits)` : ''
  return [
    ...out,
    '',
    `peer id: ${key.peerId}`,
    '',
    'next:',
    `  1. set collector.platformPrefixes (your VMs' IPv6 prefixes) as on the other hosts, and check capacity: heliotrope config check ${o.files.config}`,
    `  2. start it: systemctl enable --now heliotrope; a member admits it by its invitation (usable until ${new Date(inv.joinBy).toISOString()})${valid}`
  ]
}

/** Writes `text` unless the file holds it already; a different one is refused (a second cluster key would split the cluster). */
async function writeSame (path: string, text: string, mode: number, what: string): Promise<void> {
  if (await exists(path)) {
    if (await readFile(path, 'utf8') === text) return
    throw new UsageError(`${path} holds another ${what} than the token's: move it away if this host is to join this cluster`)
  }
  await writeFile(path, text, { mode, flag: 'wx' })
}

async function exists (path: string): Promise<boolean> {
  try { await stat(path); return true } catch { return false }
}
