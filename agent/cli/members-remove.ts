/**
 * `heliotrope members remove HOST`: signs a revocation with the admin key
 * and hands it to the local agent, which keeps it, applies it (closing the
 * host's connections) and gossips it: every agent refuses the host from
 * then on (docs/design.md §3.7).
 */
import { dirname, join } from 'node:path'
import { readFile } from 'node:fs/promises'
import { parseConfig } from '../config.ts'
import { ADMIN_KEY_FILE, readAdminKey } from '../membership/admin-key.ts'
import { makeRevocation } from '../membership/records.ts'
import { sendControl } from './control-socket.ts'
import { DEFAULT_CONFIG_PATH } from './reach.ts'
import { UsageError } from './errors.ts'
import type { ParsedArgs } from './run.ts'

export const MEMBERS_REMOVE_USAGE = `       heliotrope members remove HOST [--admin-key FILE] [--cluster NAME] [--config FILE | --socket PATH]

remove revokes HOST's membership (a host that joined with heliotrope invite):
signed with the cluster admin key (default: admin.key next to the config),
given to the local agent and gossiped; every agent drops the host's messages
(reason revoked) and closes its connections. The cluster name comes from the
config, or --cluster with --socket.`

/** With REACH_OPTIONS (--config, --socket), which the members command has already. */
export const MEMBERS_REMOVE_OPTIONS = {
  'admin-key': { type: 'string' as const },
  cluster: { type: 'string' as const }
}

export async function membersRemove (args: ParsedArgs, host: string): Promise<number> {
  const v = args.values
  const configPath = typeof v.config === 'string' ? v.config : DEFAULT_CONFIG_PATH
  let cluster = typeof v.cluster === 'string' ? v.cluster : undefined
  if (cluster === undefined) {
    let text: string
    try { text = await readFile(configPath, 'utf8') } catch (err) { throw new UsageError(`cannot read ${configPath} for the cluster name: ${(err as Error).message} (pass --config FILE, or --cluster NAME)`) }
    cluster = parseConfig(JSON.parse(text)).cluster
  }
  const keyFile = typeof v['admin-key'] === 'string' ? v['admin-key'] : join(dirname(configPath), ADMIN_KEY_FILE)
  const key = await readAdminKey(keyFile)
  const rev = makeRevocation(key, cluster, host, Date.now())
  return (await sendControl(args, { op: 'revoke', revocation: rev.body, sig: Buffer.from(rev.sig).toString('base64') })).code
}
