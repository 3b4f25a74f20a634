/** GET /status: who this agent is and where the mesh stands, in one glance. */
import { roundAt, roundStartMs } from '../../lib/rounds.ts'
import type { Agent } from '../agent.ts'
import { API_VERSION, type MeshPeer, type StatusResponse, type TopologyStatus } from './types.ts'
import type { Topic } from '../../lib/wire/messages.ts'
import { definedOnly } from '../../lib/defined.ts'
import { keyFingerprint } from '../net/keys.ts'

/**
 * The ranking for `round` without freezing it: the election freezes a
 * round's ranking the first time it is asked at or after planning time, and
 * an API call must not decide that moment for the agent. Asking "as of the
 * round's start" returns the frozen ranking when there is one and never
 * freezes a new one.
 */
export function currentRanking (agent: Agent, round: number, nowMs: number): string[] {
  const live = agent.view.live(nowMs).map(m => ({ host: m.host, peerId: m.peerId }))
  return agent.election.ranking(round, live, roundStartMs(round, agent.timing))
}

/**
 * The agent's mode. Today an agent is active or leaving; when the agent
 * grows a `mode` of its own (safety controls: paused, dry-run...), that wins.
 */
export function agentMode (agent: Agent): string {
  const own: unknown = (agent as object as { mode?: unknown }).mode
  if (typeof own === 'string') return own
  return agent.view.member(agent.host)?.state?.leaving === true ? 'leaving' : 'active'
}

export function buildStatus (agent: Agent, startedAtMs: number, nowMs: number): StatusResponse {
  const round = roundAt(nowMs, agent.timing)
  const members = agent.view.members()
  const live = agent.view.live(nowMs).length
  // A draining host announces leaving too (it takes no VMs and plans nothing); counted apart.
  const draining = members.filter(m => agent.view.isUp(m.host, nowMs) && m.state?.draining === true).length
  const leaving = members.filter(m => agent.view.isUp(m.host, nowMs) && m.state?.leaving === true && m.state.draining !== true).length
  const accepted = agent.rounds.get(round)
  const candidates = currentRanking(agent, round, nowMs)
  const mismatch = agent.view.memberListMismatches().map(m => m.host)
  const planner: StatusResponse['planner'] = accepted?.planner !== undefined
    ? { round, host: accepted.planner, ...definedOnly({ rank: accepted.rank }), accepted: true }
    : { round, ...withHost(candidates[0]), rank: 0, accepted: false }
  return {
    api: API_VERSION,
    cluster: agent.config.cluster,
    host: agent.host,
    peerId: agent.peerId,
    dc: agent.config.dc,
    round,
    roundElapsedMs: nowMs - roundStartMs(round, agent.timing),
    roundPeriodMs: agent.timing.periodMs,
    mode: agentMode(agent),
    members: { total: members.length, live, down: members.length - live - leaving - draining, leaving, draining },
    ...(mismatch.length > 0 ? { memberListMismatch: mismatch } : {}),
    planner,
    candidates,
    inFlight: agent.inFlight(),
    controlSocket: agent.config.controlSocket,
    clusterKeys: agent.node.keyring.keys.map(keyFingerprint),
    ...adminKeysOf(agent),
    limits: limitsOf(agent),
    settings: settingsOf(agent),
    mesh: meshView(agent),
    topology: topologyOf(agent, nowMs),
    startedAtMs,
    uptimeMs: nowMs - startedAtMs,
    nowMs
  }
}

function adminKeysOf (agent: Agent): Pick<StatusResponse, 'adminKeys'> {
  const m = agent.membership
  if (m === undefined) return {}
  const { fingerprints, seq, forks, staleRecords } = m.adminTrust()
  return { adminKeys: { fingerprints, seq, forks, staleRecords } }
}

/** What the agent's next plan is made under (Controls holds them; a reload replaces them). */
function limitsOf (agent: Agent): NonNullable<StatusResponse['limits']> {
  const { name, maxMoves, maxMovesPerHost, minGain, paybackSeconds } = agent.controls.planner
  const { maxInFlight, maxInFlightPerHost, cooldownRounds, minImprovement, approvalWindowRounds } = agent.controls.safety
  return { planner: { name, maxMoves, maxMovesPerHost, minGain, paybackSeconds }, safety: { maxInFlight, maxInFlightPerHost, cooldownRounds, minImprovement, approvalWindowRounds } }
}

/** The cluster settings this agent holds and each value in effect, with its source. */
function settingsOf (agent: Agent): NonNullable<StatusResponse['settings']> {
  const r = agent.controls.settings.record
  return { version: r?.version ?? 0, ...(r === undefined ? {} : { setBy: r.setBy, atMs: r.at }), effective: agent.controls.settingRows() }
}

/** The running topology, and a staged one with what its switch waits for. */
function topologyOf (agent: Agent, nowMs: number): TopologyStatus {
  const t = agent.topology
  const staged = t.staged
  const d = t.decision(nowMs)
  if (staged === undefined || d === undefined) return { hash: t.hash }
  return {
    hash: t.hash,
    staged: { hash: staged.topology, round: staged.round, ...(d.kind === 'switch' && Number.isFinite(d.round) ? { switchRound: d.round } : {}), missing: d.kind === 'waiting' ? d.missing : [] }
  }
}

/** The agent's mesh per topic, each peer named by its host when it is a member. */
export function meshView (agent: Agent): Record<Topic, MeshPeer[]> {
  const byTopic = agent.meshPeers()
  const named = (peerId: string): MeshPeer => ({ peerId, ...withHost(agent.view.hostOfPeer(peerId)) })
  return Object.fromEntries(Object.entries(byTopic).map(([t, peers]) => [t, peers.map(named)])) as Record<Topic, MeshPeer[]>
}

function withHost (host: string | undefined): { host?: string } {
  return host === undefined ? {} : { host }
}
