/** What an agent counts as it runs (the API's metrics and status read them). */
import type { ClusterCounters } from './cluster/index.ts'
import { RELAY_KINDS, type RelayKind } from '../lib/wire/relay.ts'
import { REFUSAL_REASONS, type RefusalReason } from './migrate-protocol.ts'
import { RELOAD_RESULTS, type ReloadResult } from './config-reload.ts'

export interface AgentCounters extends ClusterCounters {
  plansMade: number
  /** Rounds in which this agent's planner threw (a bug: logged once each, the next rank takes over). */
  planFailures: number
  migrationsOk: number
  migrationsFailed: number
  /** Votes (plan-acks) from members whose member list differed from ours when the vote came: not counted (docs/design.md §5.3). */
  votesUncounted: number
  /** Migrate requests this host refused as a target, by reason (docs/design.md #invariant-5). */
  migrateRefused: Record<RefusalReason, number>
  /** Config reloads (SIGHUP) by outcome (agent/config-reload.ts). */
  configReloads: Record<ReloadResult, number>
}

export function newCounters (): AgentCounters {
  return {
    published: 0,
    messagesIn: { host: 0, traffic: 0, plan: 0, event: 0 },
    plansMade: 0,
    planFailures: 0,
    migrationsOk: 0,
    migrationsFailed: 0,
    uncountedBytes: 0,
    memberListMismatches: 0,
    aggregatorsAccused: 0,
    rejoins: 0,
    relaySent: relayKinds(),
    relayServed: relayKinds(),
    relayItemsSent: relayKinds(),
    votesUncounted: 0,
    migrateRefused: Object.fromEntries(REFUSAL_REASONS.map(r => [r, 0])) as Record<RefusalReason, number>,
    configReloads: Object.fromEntries(RELOAD_RESULTS.map(r => [r, 0])) as Record<ReloadResult, number>,
    messagesVia: new Map()
  }
}

function relayKinds (): Record<RelayKind, number> {
  return Object.fromEntries(RELAY_KINDS.map(k => [k, 0])) as Record<RelayKind, number>
}
