/** `heliotrope status`: one agent at a glance, from its local API. */
import type { StatusResponse } from '../api/types.ts'
import { ago } from '../console/event-line.ts'
import { REACH_OPTIONS, REACH_USAGE, apiClient } from './reach.ts'
import type { Command } from './run.ts'

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the local agent: round, planner, members, uptime',
  usage: `Usage: heliotrope status [--api ADDR | --config FILE] [--json]

Asks a running agent (its local API) who it is and where the mesh stands:
the current round and its planner, members live and down, migrations in
flight, mesh peers per gossip topic, uptime.

${REACH_USAGE}
  --json       print the API's JSON as is
`,
  options: { ...REACH_OPTIONS, json: { type: 'boolean' } },
  async run (args) {
    const client = await apiClient(args)
    const s = await client.json<StatusResponse>('/status')
    if (args.values.json === true) { process.stdout.write(JSON.stringify(s, null, 2) + '\n'); return 0 }
    process.stdout.write(formatStatus(s).join('\n') + '\n')
    return 0
  }
}

/** One line: the cluster settings' version and the values the cluster sets (the rest come from the host's file). */
function formatSettings (s: NonNullable<StatusResponse['settings']>): string {
  if (s.version === 0) return 'settings   none set cluster-wide (all from this host\'s file)'
  const set = s.effective.filter(r => r.source === 'cluster').map(r => `${r.key} ${String(r.value)}`)
  return `settings   v${s.version} by ${s.setBy ?? '?'}: ${set.length === 0 ? 'none' : set.join(', ')} (heliotrope cluster show)`
}

export function formatStatus (s: StatusResponse): string[] {
  const p = s.planner
  const planner = p.host === undefined ? 'none yet' : `${p.host} (rank ${p.rank ?? 0}${p.accepted ? ', its plan is the round\'s' : ', expected'})`
  return [
    `host       ${s.host}  dc ${s.dc}  cluster ${s.cluster}`,
    `peer id    ${s.peerId}`,
    `mode       ${s.mode}${s.settings?.effective.find(r => r.key === 'mode')?.source === 'cluster' ? ' (cluster setting)' : ''}`,
    ...(s.settings === undefined ? [] : [formatSettings(s.settings)]),
    `round      ${s.round}  (${ago(s.roundElapsedMs)} of ${ago(s.roundPeriodMs)})`,
    `planner    ${planner}`,
    `members    ${s.members.live} live, ${s.members.down} down, ${s.members.draining ?? 0} draining, ${s.members.leaving} leaving (${s.members.total} in the member list)`,
    ...(s.memberListMismatch === undefined ? [] : [`member list differs on ${s.memberListMismatch.join(' ')}: their votes do not count (compare the configs' members)`]),
    `in flight  ${s.inFlight.length === 0 ? '-' : s.inFlight.join(' ')}`,
    ...(s.mesh === undefined ? [] : [`mesh       ${Object.entries(s.mesh).map(([t, peers]) => `${t} ${peers.length}`).join(', ')} (peers per topic)`]),
    ...(s.adminKeys === undefined ? [] : [`admin key  ${s.adminKeys.fingerprints.join(' ')} (seq ${s.adminKeys.seq}${s.adminKeys.forks > 0 ? `; ${s.adminKeys.forks} FORK(S): a retired admin key is in use, see the log` : ''})`]),
    ...(s.clusterKeys === undefined || s.clusterKeys.length < 2 ? [] : [`keys       a cluster key rotation is under way: speaks ${s.clusterKeys[0]!}, accepts ${s.clusterKeys.join(' ')}`]),
    ...(s.topology === undefined ? [] : [formatTopology(s.topology)]),
    `uptime     ${ago(s.uptimeMs)}`
  ]
}

/** The running topology's hash; while one is staged, when it switches or who has not staged it. */
function formatTopology (t: NonNullable<StatusResponse['topology']>): string {
  const run = `topology   ${t.hash.slice(0, 12)}`
  const st = t.staged
  if (st === undefined) return run
  const when = st.switchRound !== undefined
    ? `every member has it: switches at round ${st.switchRound}`
    : `not staged on ${st.missing.join(' ')}: nobody switches until they have it (copy the file there and reload)`
  return `${run}, staged ${st.hash.slice(0, 12)} in round ${st.round}; ${when}`
}
