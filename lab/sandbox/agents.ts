/**
 * The sandbox's agents: one `heliotrope lab agent --config FILE` process each
 * (the daemon as systemd runs it, with the lab's sim drivers), its output in
 * its log file; and the wait until every one of them is planning.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { ApiClient, parseApiAddress } from '../../agent/api/client.ts'
import type { StatusResponse } from '../../agent/api/types.ts'
import type { SandboxAgent } from './files.ts'

const BIN = fileURLToPath(new URL('../../agent/bin/heliotrope.js', import.meta.url))
/** A stopping agent leaves (announces it, ends its migrations) within this, or is killed. */
const STOP_GRACE_MS = 10_000
const POLL_MS = 250

export interface RunningAgent {
  agent: SandboxAgent
  child: ChildProcess
  exited: Promise<number | null>
}

/** Starts every agent; `onExit` hears of any that ends before stopAll. */
export function startAgents (agents: readonly SandboxAgent[], onExit: (a: SandboxAgent, code: number | null) => void): RunningAgent[] {
  const running = agents.map(agent => {
    const log = createWriteStream(agent.logPath, { flags: 'a' })
    // Its own process group: a Ctrl-C in the terminal reaches the sandbox
    // alone, which stops the agents in order (and tells their exits apart
    // from crashes), instead of every agent at once.
    const child = spawn(process.execPath, [BIN, 'lab', 'agent', '--config', agent.configPath], { stdio: ['ignore', 'pipe', 'pipe'], detached: true })
    child.stdout!.pipe(log)
    child.stderr!.pipe(log)
    const exited = new Promise<number | null>(resolve => {
      child.once('exit', code => { onExit(agent, code); resolve(code) })
      child.once('error', () => { resolve(null) })
    })
    return { agent, child, exited }
  })
  // Out of our process group, an agent would outlive a sandbox that dies without stopping it.
  process.once('exit', () => { for (const r of running) r.child.kill('SIGKILL') })
  return running
}

/** SIGTERM to all (each leaves the cluster cleanly), SIGKILL to any still there after the grace. */
export async function stopAgents (running: readonly RunningAgent[]): Promise<void> {
  const live = running.filter(r => r.child.exitCode === null && r.child.signalCode === null)
  for (const r of live) r.child.kill('SIGTERM')
  const timer = setTimeout(() => { for (const r of live) r.child.kill('SIGKILL') }, STOP_GRACE_MS)
  await Promise.all(live.map(async r => await r.exited))
  clearTimeout(timer)
}

export interface Planning {
  /** The round whose plan every agent accepted. */
  round: number
  planner: string
}

/**
 * Resolves once every agent answers on its API, sees every member live and
 * has accepted a plan for its current round: the cluster is planning.
 * Agents not answering yet are starting; `signal` ends the wait.
 */
export async function whenPlanning (agents: readonly SandboxAgent[], signal: AbortSignal): Promise<Planning> {
  const clients = agents.map(a => new ApiClient(parseApiAddress(a.api), { timeoutMs: 2_000 }))
  while (!signal.aborted) {
    const states = await Promise.all(clients.map(async c => await c.json<StatusResponse>('/status').catch(() => undefined)))
    const ready = states.every(s => s !== undefined && s.members.live === agents.length && s.planner.accepted)
    if (ready) {
      const s = states[0]!
      return { round: s.planner.round, planner: s.planner.host ?? '?' }
    }
    await new Promise(resolve => setTimeout(resolve, POLL_MS))
  }
  throw signal.reason
}
