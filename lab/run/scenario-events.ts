/**
 * A scenario's chaos events against a running lab: kill an agent (SIGKILL,
 * a crash), kill the planner (the agent that ranks first for the next
 * round, as that round starts, so rank 1 has to take over), start killed
 * agents again, cut a DC off the WAN at the router and restore it.
 */
import { Ballot } from '../../agent/ballot.ts'
import { defaultTiming, planDeadlineMs, roundAt, roundStartMs } from '../../lib/rounds.ts'
import type { Lab } from '../net/lab.ts'
import type { AgentProcess } from './agents.ts'
import { LAB_CLUSTER } from './cluster-files.ts'
import type { ScenarioEvent } from './scenario.ts'

/** The kill lands this long after the round starts: before its planning time, after its gossip went out. */
const KILL_INTO_ROUND_MS = 100
/** The next round must leave at least this much time before we can aim at its planner. */
const MIN_LEAD_MS = 300

export interface ChaosContext {
  lab: Lab
  agents: Map<string, AgentProcess>
  roundPeriodMs: number
  killed: Set<string>
  /** Rounds are reported counted from this one (the round the traffic started in). */
  baseRound: number
  signal?: AbortSignal
}

/** Runs one event; returns what happened, in words. */
export async function runEvent (ctx: ChaosContext, e: ScenarioEvent): Promise<string> {
  switch (e.action) {
    case 'kill-agent': {
      const a = ctx.agents.get(e.host!)!
      await a.kill()
      ctx.killed.add(e.host!)
      return `killed the agent of ${e.host}`
    }
    case 'restart-agent': {
      ctx.agents.get(e.host!)!.start()
      ctx.killed.delete(e.host!)
      return `started the agent of ${e.host} again`
    }
    case 'restart-killed': {
      const hosts = [...ctx.killed]
      for (const h of hosts) ctx.agents.get(h)!.start()
      ctx.killed.clear()
      return hosts.length === 0 ? 'no agent to restart' : `started ${hosts.join(', ')} again`
    }
    case 'kill-planner': {
      const timing = defaultTiming(ctx.roundPeriodMs)
      let round = roundAt(Date.now(), timing) + 1
      if (roundStartMs(round, timing) - Date.now() < MIN_LEAD_MS) round++
      const live = [...ctx.agents.values()].filter(a => a.running).map(a => ({ host: a.spec.host, peerId: a.spec.peerId }))
      // nowMs 0: rank without freezing, exactly as the agents will rank this round's live members.
      const ranking = new Ballot({ cluster: LAB_CLUSTER, timing }).ranking(round, live, 0)
      const victim = ranking[0]
      if (victim === undefined) return 'no planner to kill'
      await sleep(roundStartMs(round, timing) + KILL_INTO_ROUND_MS - Date.now(), ctx.signal)
      await ctx.agents.get(victim)!.kill()
      ctx.killed.add(victim)
      return `killed ${victim}, rank 0 of round ${round - ctx.baseRound}, ${planDeadlineMs(round, 0, timing) - Date.now()} ms before its planning time`
    }
    case 'cut-dc':
      await ctx.lab.setCut(e.dc!, true)
      return `cut ${e.dc} off the WAN`
    case 'restore-dc':
      await ctx.lab.setCut(e.dc!, false)
      return `restored ${e.dc}'s WAN links`
  }
}

export function sleep (ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise(resolve => {
    if (ms <= 0 || signal?.aborted === true) { resolve(); return }
    const t = setTimeout(() => { signal?.removeEventListener('abort', done); resolve() }, ms)
    const done = (): void => { clearTimeout(t); resolve() }
    signal?.addEventListener('abort', done, { once: true })
  })
}
