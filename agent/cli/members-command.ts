/** `heliotrope members`: the mesh as the local agent sees it, like `serf members`. */
import type { MemberView, ViewResponse } from '../api/types.ts'
import { ago } from '../console/event-line.ts'
import { table } from '../console/table.ts'
import { API_OPTIONS, API_USAGE, apiClient, listOption } from './api-option.ts'
import type { Command } from './run.ts'

const STATUSES = ['up', 'down', 'draining', 'leaving'] as const

export const membersCommand: Command = {
  name: 'members',
  summary: 'list the cluster members: DC, status, VMs, last seen',
  usage: `Usage: heliotrope members [--api ADDR] [--status up,down,draining,leaving] [--json]

Lists every member in the agent's member list with its DC, whether it is up
(heard from within the down-after window), down, draining (emptied by
heliotrope drain) or leaving (shutting down), its VMs and memory in use, when it was last heard from, and its peer id.

${API_USAGE}
  --status S   only members in these states (comma-separated)
  --json       one JSON object per member, one per line
`,
  options: { ...API_OPTIONS, json: { type: 'boolean' }, status: { type: 'string' } },
  async run (args) {
    const only = listOption(args, 'status', STATUSES)
    const client = apiClient(args)
    const view = await client.json<ViewResponse>('/view')
    const members = view.members.filter(m => only === undefined || only.includes(m.status))
    if (args.values.json === true) {
      for (const m of members) process.stdout.write(JSON.stringify(m) + '\n')
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
