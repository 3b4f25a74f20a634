/**
 * `heliotrope invite --host H --dc D`: on a holder of the admin key, prints
 * a join token for a new host (agent/membership/token.ts). The new host
 * runs `heliotrope init --join TOKEN` and starts; a member admits it.
 */
import { dirname, join } from 'node:path'
import { readConfigFile } from '../config-file.ts'
import { ADMIN_KEY_FILE, readAdminKey } from '../membership/admin-key.ts'
import { buildToken, parseDuration } from '../membership/invite.ts'
import { DEFAULT_JOIN_TTL_MS, DEFAULT_MEMBER_FOR_MS } from '../membership/records.ts'
import { controlRequest } from '../control-socket/client.ts'
import type { AgentConfig } from '../config.ts'
import type { AdminKeyData } from './admin-key-command.ts'
import { DEFAULT_CONFIG_PATH } from './reach.ts'
import { UsageError } from './errors.ts'
import type { Command } from './run.ts'

export const inviteCommand: Command = {
  name: 'invite',
  summary: 'print a join token for a new host (needs the cluster admin key)',
  usage: `Usage: heliotrope invite --host H --dc D [--ttl 1h] [--member-for 365d]
                         [--admin-key FILE] [--config ${DEFAULT_CONFIG_PATH}] [--bootstrap ADDR]...

Prints a join token for host H in data center D, signed with the cluster
admin key (default: admin.key next to the config; heliotrope init made it on
the first host). On the new host, \`heliotrope init --join TOKEN\` writes its
config, cluster key and topology from the token; start it, and a member
admits it: no config edit and no restart anywhere.

THE TOKEN IS A SECRET: it carries the cluster's pre-shared key. Pass it as
you would the psk file (not in a ticket or a chat), and let it expire.

  --ttl D         how long the token may be used (default ${DEFAULT_JOIN_TTL_MS / 60_000}m): 30s, 15m, 1h, 2d
  --member-for D  how long the membership lasts (default ${DEFAULT_MEMBER_FOR_MS / 86_400_000}d); invite again before
  --bootstrap A   a member's /ip6/.../tcp/PORT/p2p/ID for the new host to dial
                  (default: the config's member addresses and this host's)
`,
  options: {
    host: { type: 'string' },
    dc: { type: 'string' },
    ttl: { type: 'string' },
    'member-for': { type: 'string' },
    'admin-key': { type: 'string' },
    config: { type: 'string', short: 'c' },
    bootstrap: { type: 'string', multiple: true }
  },
  async run (args) {
    const v = args.values
    if (args.positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(args.positionals[0])}`)
    if (typeof v.host !== 'string' || v.host === '') throw new UsageError('--host H is required: the new host\'s id')
    if (typeof v.dc !== 'string' || v.dc === '') throw new UsageError('--dc D is required: the new host\'s data center')
    const duration = (name: string): number | undefined => {
      const raw = v[name]
      if (raw === undefined) return undefined
      const ms = parseDuration(String(raw))
      if (ms === undefined || ms <= 0) throw new UsageError(`--${name} expects a duration like 30s, 15m, 1h or 7d, not ${JSON.stringify(raw)}`)
      return ms
    }
    const configPath = typeof v.config === 'string' ? v.config : DEFAULT_CONFIG_PATH
    const config = await readConfigFile(configPath)
    const key = await readAdminKey(typeof v['admin-key'] === 'string' ? v['admin-key'] : join(dirname(configPath), ADMIN_KEY_FILE))
    // parseArgs gives `multiple` options as arrays; ParsedArgs types values as scalars.
    const bootstrap = v.bootstrap as unknown as string[] | undefined
    const ttlMs = duration('ttl')
    const memberForMs = duration('member-for')
    const trustedKeys = await agentTrust(config)
    const { token, content } = await buildToken(config, key, {
      ...(trustedKeys !== undefined ? { trustedKeys } : {}),
      host: v.host,
      dc: v.dc,
      now: Date.now(),
      ...(ttlMs !== undefined ? { ttlMs } : {}),
      ...(memberForMs !== undefined ? { memberForMs } : {}),
      ...(bootstrap !== undefined ? { bootstrap } : {})
    })
    const inv = content.invitation.body
    process.stderr.write(`join token for ${inv.host} (dc ${inv.dc}), usable until ${new Date(inv.joinBy).toISOString()}, member until ${new Date(inv.until).toISOString()}; it carries the cluster key: keep it secret.\non the new host: heliotrope init --join TOKEN, then systemctl enable --now heliotrope\n`)
    process.stdout.write(token + '\n')
    return 0
  }
}

/**
 * The admin keys the local agent trusts now (they differ from the config's
 * adminKey after a rotation: docs/design.md §3.7.1), or undefined when no
 * agent answers here (then the config's key is the check).
 */
export async function agentTrust (config: AgentConfig): Promise<string[] | undefined> {
  try {
    const reply = await controlRequest(config.controlSocket, { op: 'admin-key' }, 5_000)
    return reply.ok ? (reply.data as AdminKeyData).keys : undefined
  } catch {
    return undefined
  }
}
