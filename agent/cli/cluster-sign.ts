/**
 * `heliotrope cluster set|unset` in a cluster with an admin key (signed
 * membership, docs/design.md §3.6): the command makes the next settings
 * record itself, one version above the agent's, and signs it with the
 * admin key; the agent checks the signature as every other agent will.
 * So only a holder of admin.key changes the cluster's mode and limits,
 * not whoever controls one member.
 */
import { access, readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { nextSettings, settingsBytes, type ClusterSettings, type SettingKey, type SettingValues } from '../../lib/settings.ts'
import { controlRequest } from '../control-socket/client.ts'
import type { ControlRequest } from '../control-socket/protocol.ts'
import { ADMIN_KEY_FILE, readAdminKey, signAdmin, type AdminKey } from '../membership/admin-key.ts'
import { UsageError } from './errors.ts'
import { controlSocket, DEFAULT_CONFIG_PATH } from './reach.ts'
import type { ParsedArgs } from './run.ts'

export const CLUSTER_SIGN_OPTIONS = {
  'admin-key': { type: 'string' as const }
}

export const CLUSTER_SIGN_USAGE = `In a cluster with an admin key (adminKey in the config: hosts joined by
heliotrope invite) the settings are signed with it, and every agent drops a
record without its signature: run set and unset on a host holding admin.key
next to its config (the first host, where init made it), or pass
--admin-key FILE.`

/** The config a command names or implies (the local agent's when no other way to reach an agent is given). */
function impliedConfig (args: ParsedArgs): string | undefined {
  const v = args.values
  if (typeof v.config === 'string') return v.config
  if (v.socket !== undefined || v.api !== undefined) return undefined
  return DEFAULT_CONFIG_PATH
}

/**
 * The admin key to sign with: --admin-key FILE, or admin.key beside the
 * config when that config names an adminKey. Undefined for a cluster
 * without one (its settings go unsigned), or when no config is at hand (the
 * agent then says whether it needs a signature).
 */
export async function settingsSigner (args: ParsedArgs): Promise<AdminKey | undefined> {
  const flag = args.values['admin-key']
  if (typeof flag === 'string') return await readAdminKey(flag)
  const config = impliedConfig(args)
  if (config === undefined) return undefined
  let adminKey: unknown
  try {
    adminKey = (JSON.parse(await readFile(config, 'utf8')) as { adminKey?: unknown }).adminKey
  } catch {
    return undefined
  }
  if (typeof adminKey !== 'string') return undefined
  const file = join(dirname(config), ADMIN_KEY_FILE)
  try {
    await access(file)
  } catch {
    throw new UsageError(`this cluster's settings are signed with its admin key (adminKey in ${config}), and ${file} is not here: run this on a host that holds admin.key, or pass --admin-key FILE`)
  }
  return await readAdminKey(file)
}

/** Asks the agent for the record it holds, and makes the next one, signed. */
export async function signedSettings (args: ParsedArgs, key: AdminKey, change: { set: SettingValues, unset: SettingKey[] }, now = Date.now()): Promise<ControlRequest> {
  const socket = await controlSocket(args)
  const shown = await controlRequest(socket, { op: 'cluster' })
  if (!shown.ok) throw new Error(`the agent would not show its cluster settings: ${shown.error}`)
  const data = shown.data as { settings: ClusterSettings | null, host?: string }
  const next = nextSettings(data.settings ?? undefined, change, data.host ?? 'admin', now)
  const sig = Buffer.from(signAdmin(key, settingsBytes(next))).toString('base64')
  return { op: 'cluster', signed: { ...next, sig } }
}

/**
 * After an admin key rotation: the settings record the agent holds, signed
 * again with the new key (the same record, only its signature changes), so
 * it still counts at a host that trusts only the new key. Undefined when
 * the cluster set none.
 */
export async function resignSettings (socket: string, key: AdminKey): Promise<string | undefined> {
  const shown = await controlRequest(socket, { op: 'cluster' })
  if (!shown.ok) return `the cluster settings were not signed again (${shown.error}): run heliotrope cluster set with the new key`
  const held = (shown.data as { settings: ClusterSettings | null }).settings
  if (held === null) return undefined
  const record: ClusterSettings = { version: held.version, setBy: held.setBy, at: held.at, values: held.values }
  const sig = Buffer.from(signAdmin(key, settingsBytes(record))).toString('base64')
  const reply = await controlRequest(socket, { op: 'cluster', signed: { ...record, sig } })
  return reply.ok ? reply.message : `the cluster settings were not signed again (${reply.error}): run heliotrope cluster set with the new key`
}
