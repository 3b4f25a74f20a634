/**
 * The reference: HashiCorp Serf disseminating user events among N agents on
 * 127.0.0.1 (one process each, distinct ports). Every agent runs the same
 * event handler, which appends a timestamp and the payload to a file of its
 * own; an event's arrival is the latest timestamp over all agents minus the
 * time we ran `serf event` against agent 0's RPC.
 *
 * Every serf process started here is killed before runSerf returns (and by
 * killSerfs() from a signal handler).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { closeSync, openSync, readFileSync } from 'node:fs'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { ownLoTxBytes } from './netns.ts'

export const SERF_BIND_BASE_PORT = 7946
export const SERF_RPC_BASE_PORT = 7373
const HOST = '127.0.0.1'
const EVENT_NAME = 'bench'
const POLL_MS = 200
const CLI_TIMEOUT_MS = 10_000
const KILL_GRACE_MS = 3_000
/** /proc/<pid>/stat counts CPU in clock ticks of 1/100 s on Linux. */
const CLOCK_TICKS_PER_S = 100

export interface SerfOptions {
  agents: number
  events: number
  gapMs: number
  dir: string
  /** How long to wait for every agent to list every other as alive. */
  joinTimeoutMs: number
  /** How long to wait after the last event for it to arrive everywhere. */
  settleMs: number
  /** Read the loopback byte counter (only when it is ours alone). */
  countBytes: boolean
}

export interface SerfResult {
  agents: number
  /** Per event: latest arrival minus the send time (ms). Events that missed an agent are left out. */
  latencies: number[]
  /** Per event: latest arrival minus the sending agent's own handler time (ms): dissemination alone. */
  fromOrigin: number[]
  /** Events that did not reach every agent within settleMs. */
  missing: number
  /** How long `serf event` took to run (ms): part of every latency above. */
  cliMs: number[]
  joinMs: number
  bytesPerAgentPerS?: number
  cpuPercentPerAgent: number
  rssBytesPerAgent: number
}

const running = new Set<ChildProcess>()

/** Kills every serf agent still running (for signal handlers; runSerf cleans up itself). */
export function killSerfs (): void {
  for (const p of running) p.kill('SIGKILL')
  running.clear()
}

export function serfAvailable (): boolean {
  return spawnSync('serf', ['version'], { timeout: CLI_TIMEOUT_MS, stdio: 'ignore' }).status === 0
}

export async function runSerf (opts: SerfOptions): Promise<SerfResult> {
  await mkdir(opts.dir, { recursive: true })
  const handler = join(opts.dir, 'handler.sh')
  // bash's EPOCHREALTIME saves forking date(1) on every event at every agent;
  // it has microseconds, written as nanoseconds.
  await writeFile(handler, `#!/bin/bash
IFS= read -r payload || true
t=\${EPOCHREALTIME//[!0-9]/}
printf '%s000 %s\\n' "$t" "$payload" >> "${opts.dir}/$SERF_SELF_NAME.log"
`, { mode: 0o755 })
  const agents: ChildProcess[] = []
  try {
    const joinStart = Date.now()
    agents.push(startAgent(opts.dir, handler, 0))
    await waitFor(() => serfCli(['members', `-rpc-addr=${rpc(0)}`]).ok, opts.joinTimeoutMs, 'serf agent 0')
    for (let i = 1; i < opts.agents; i++) agents.push(startAgent(opts.dir, handler, i))
    await waitFor(() => [0, opts.agents - 1].every(i => aliveCount(i) === opts.agents), opts.joinTimeoutMs, `all ${opts.agents} serf agents to see each other`)
    const joinMs = Date.now() - joinStart

    const tx0 = opts.countBytes ? ownLoTxBytes() : 0
    const cpu0 = cpuTicks(agents)
    const t0 = Date.now()
    const sent: number[] = []
    const cliMs: number[] = []
    for (let k = 0; k < opts.events; k++) {
      const at = nowUs()
      const r = serfCli(['event', `-rpc-addr=${rpc(0)}`, '-coalesce=false', EVENT_NAME, payload(k)])
      if (!r.ok) throw new Error(`serf event failed: ${r.error}`)
      sent.push(at)
      cliMs.push((nowUs() - at) / 1000)
      await sleep(opts.gapMs)
    }
    const lastSent = Date.now()
    const logs = async (): Promise<Map<string, number[]>> => await readLogs(opts.dir, opts.agents)
    let arrivals = await logs()
    while (Date.now() - lastSent < opts.settleMs && !complete(arrivals, opts.events, opts.agents)) {
      await sleep(POLL_MS)
      arrivals = await logs()
    }
    const windowS = (Date.now() - t0) / 1000
    const tx1 = opts.countBytes ? ownLoTxBytes() : 0
    const cpuS = (cpuTicks(agents) - cpu0) / CLOCK_TICKS_PER_S
    const rss = agents.reduce((s, p) => s + rssBytes(p.pid), 0)

    const latencies: number[] = []
    const fromOrigin: number[] = []
    let missing = 0
    for (let k = 0; k < opts.events; k++) {
      const times = arrivals.get(payload(k)) ?? []
      if (times.length < opts.agents) { missing++; continue }
      const last = Math.max(...times)
      latencies.push((last - sent[k]!) / 1000)
      const origin = arrivals.get(`${payload(k)}@s0`)?.[0]
      if (origin !== undefined) fromOrigin.push((last - origin) / 1000)
    }
    return {
      agents: opts.agents,
      latencies,
      fromOrigin,
      missing,
      cliMs,
      joinMs,
      ...(opts.countBytes ? { bytesPerAgentPerS: (tx1 - tx0) / opts.agents / windowS } : {}),
      cpuPercentPerAgent: 100 * cpuS / windowS / opts.agents,
      rssBytesPerAgent: rss / opts.agents
    }
  } finally {
    await stopAll(agents)
  }
}

function rpc (i: number): string {
  return `${HOST}:${SERF_RPC_BASE_PORT + i}`
}

function payload (k: number): string {
  return `e${k}`
}

function startAgent (dir: string, handler: string, i: number): ChildProcess {
  const log = openSync(join(dir, `s${i}.out`), 'a')
  const args = ['agent', `-node=s${i}`, `-bind=${HOST}:${SERF_BIND_BASE_PORT + i}`, `-rpc-addr=${rpc(i)}`, `-event-handler=user:${EVENT_NAME}=${handler}`, '-log-level=warn']
  // -retry-join: agent 0 may be slow to answer on a loaded machine; -join would give up.
  if (i > 0) args.push(`-retry-join=${HOST}:${SERF_BIND_BASE_PORT}`, '-retry-interval=1s')
  const p = spawn('serf', args, { stdio: ['ignore', log, log] })
  closeSync(log)
  running.add(p)
  p.once('exit', () => running.delete(p))
  return p
}

async function stopAll (agents: ChildProcess[]): Promise<void> {
  const alive = agents.filter(p => p.exitCode === null && p.signalCode === null)
  await Promise.all(alive.map(async p => {
    const exited = new Promise<void>(resolve => p.once('exit', () => resolve()))
    p.kill('SIGTERM')
    const timer = setTimeout(() => p.kill('SIGKILL'), KILL_GRACE_MS)
    await exited
    clearTimeout(timer)
  }))
}

function serfCli (args: string[]): { ok: boolean, out: string, error: string } {
  const r = spawnSync('serf', args, { timeout: CLI_TIMEOUT_MS, encoding: 'utf8' })
  return { ok: r.status === 0, out: r.stdout ?? '', error: r.stderr ?? String(r.error) }
}

function aliveCount (i: number): number {
  const r = serfCli(['members', `-rpc-addr=${rpc(i)}`, '-status=alive'])
  return r.ok ? r.out.split('\n').filter(l => l.trim() !== '').length : 0
}

/** Per payload, the arrival times (µs) at every agent; also `<payload>@s0` for agent 0 alone. */
async function readLogs (dir: string, n: number): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>()
  for (let i = 0; i < n; i++) {
    let text = ''
    try { text = await readFile(join(dir, `s${i}.log`), 'utf8') } catch { continue }
    for (const line of text.split('\n')) {
      const [ns, p] = line.split(' ')
      if (ns === undefined || p === undefined || !/^\d+$/.test(ns)) continue
      const us = Number(BigInt(ns) / 1000n)
      out.set(p, [...out.get(p) ?? [], us])
      if (i === 0) out.set(`${p}@s0`, [us])
    }
  }
  return out
}

function complete (arrivals: Map<string, number[]>, events: number, n: number): boolean {
  for (let k = 0; k < events; k++) if ((arrivals.get(payload(k))?.length ?? 0) < n) return false
  return true
}

function cpuTicks (agents: ChildProcess[]): number {
  let sum = 0
  for (const p of agents) {
    const stat = procRead(`/proc/${p.pid}/stat`)
    // Fields after the ")" closing the command name: utime is the 12th, stime the 13th.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    sum += Number(fields[11] ?? 0) + Number(fields[12] ?? 0)
  }
  return sum
}

function rssBytes (pid: number | undefined): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(procRead(`/proc/${pid}/status`))
  return m === null ? 0 : Number(m[1]) * 1024
}

function procRead (path: string): string {
  try { return readFileSync(path, 'utf8') } catch { return '' }
}

function nowUs (): number {
  return Math.round((performance.timeOrigin + performance.now()) * 1000)
}

async function waitFor (check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(POLL_MS)
  }
}

function sleep (ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms))
}
