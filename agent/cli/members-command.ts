/** `heliotrope members`: the mesh as the local agent sees it, like `serf members`. */
import type { MemberView, ViewResponse } from '../api/types.ts'
import { ago } from '../console/event-line.ts'
import { table } from '../console/table.ts'
import { REACH_OPTIONS, REACH_USAGE, apiClient } from './reach.ts'
import { listOption, type Command } from './run.ts'
import { UsageError } from './errors.ts'
import { MEMBERS_REMOVE_OPTIONS, MEMBERS_REMOVE_USAGE, membersRemove } from './members-remove.ts'

const STATUSES = ['up', 'down', 'draining', 'leaving'] as const

export const membersCommand: Command = {
  name: 'members',
  summary: 'list the cluster members: DC, status, VMs, last seen',
  usage: `Usage: heliotrope members [--api ADDR | --config FILE] [--status up,down,draining,leaving] [--json]
${MEMBERS_REMOVE_USAGE}

Lists every member in the agent's member list with its DC, whether it is up
(heard from within the down-after window), down, draining (emptied by
heliotrope drain) or leaving (shutting down), its VMs and memory in use, when it was last heard from, and its peer id.

${REACH_USAGE}
  --status S   only members in these states (comma-separated)
  --json       print {"members": [...]}, the API's member objects (one
               JSON document, as status --json prints)
`,
  options: { ...REACH_OPTIONS, json: { type: 'boolean' }, status: { type: 'string' }, ...MEMBERS_REMOVE_OPTIONS },
  async run (args) {
    const [verb, host, ...rest] = args.positionals
    if (verb === 'remove') {
      if (host === undefined || rest.length > 0) throw new UsageError('remove takes one HOST')
      return await membersRemove(args, host)
    }
    if (verb !== undefined) throw new UsageError(`unknown ${JSON.stringify(verb)}: members lists, members remove HOST revokes`)
    const only = listOption(args, 'status', STATUSES)
    const client = await apiClient(args)
    const view = await client.json<ViewResponse>('/view')
    const members = view.members.filter(m => only === undefined || only.includes(m.status))
    if (args.values.json === true) {
      process.stdout.write(JSON.stringify({ members }, null, 2) + '\n')
      return 0
    }
    process.stdout.write(formatMembers(members).join('\n') + '\n')
    return 0
  }
}

export function formatMembers (members: readonly MemberView[]): string[] {
  return table(['HOST', 'DC', 'STATUS', 'VMS', 'MEMORY MiB', 'LAST SEEN', 'PEER ID'], members.map(m => [
    m.self ? `${m.host}*` : m.host,
    m.dc ?? '?',
    m.sameMembers === false ? `${m.status}, other member list` : m.status,
    String(m.vms.length),
    m.used !== undefined && m.capacity !== undefined ? `${m.used.memoryMiB}/${m.capacity.memoryMiB}` : '-',
    m.agoMs !== undefined ? `${ago(m.agoMs)} ago` : 'never',
    m.peerId
  ]))
}
