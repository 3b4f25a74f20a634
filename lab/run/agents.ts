/**
 * The agents of a lab run: `heliotrope lab agent --config FILE` inside each
 * host's namespace (`ip netns exec`), the real daemon with the real
 * collector and the lab hypervisor. Their log lines go to a file each and,
 * parsed, to the run's listeners. An agent can be killed (SIGKILL: a crash
 * as the cluster sees it), stopped (SIGTERM: a graceful leave) and started
 * again with the same identity.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream, type WriteStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { tool } from '../drivers/lab-host/exec.ts'
import type { AgentSpec } from './cluster-files.ts'
import { parseAgentLine, type AgentLogEvent } from './log-events.ts'

const BIN = fileURLToPath(new URL('../../agent/bin/heliotrope.js', import.meta.url))
/** The agent's own grace period for migrations in flight is 5 s; give it a little more. */
export const AGENT_STOP_GRACE_MS = 8_000

export class AgentProcess {
  readonly spec: AgentSpec
  private child: ChildProcess | undefined
  private exited: Promise<void> = Promise.resolve()
  private readonly log: WriteStream
  private readonly onEvent: (e: AgentLogEvent) => void
  /** Set when the agent is gone on purpose (killed or stopped), so its exit is not reported as a crash. */
  expectedExit = false

  private readonly onExit: (host: string, code: number | null, expected: boolean) => void

  constructor (spec: AgentSpec, logFile: string, onEvent: (e: AgentLogEvent) => void, onExit: (host: string, code: number | null, expected: boolean) => void) {
    this.onExit = onExit
    this.spec = spec
    this.log = createWriteStream(logFile, { flags: 'a' })
    this.onEvent = onEvent
  }

  get running (): boolean {
    return this.child !== undefined && this.child.exitCode === null && this.child.signalCode === null
  }

  start (): void {
    if (this.running) return
    this.expectedExit = false
    const child = spawn(tool('ip'), ['netns', 'exec', this.spec.ns, process.execPath, BIN, 'lab', 'agent', '--config', this.spec.configPath], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.child = child
    child.on('error', () => {})
    createInterface({ input: child.stdout! }).on('line', (line) => {
      this.log.write(line + '\n')
      const e = parseAgentLine(this.spec.host, line)
      if (e !== undefined) this.onEvent(e)
    })
    child.stderr!.on('data', (d: Buffer) => this.log.write(d))
    this.exited = new Promise(resolve => child.once('exit', (code) => { this.onExit(this.spec.host, code, this.expectedExit); resolve() }))
  }

  /** A crash: no leave message, migrations in flight cut short. */
  async kill (): Promise<void> {
    if (!this.running) return
    this.expectedExit = true
    this.child!.kill('SIGKILL')
    await this.exited
  }

  /** A graceful stop; SIGKILL if it takes too long. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.expectedExit = true
    this.child!.kill('SIGTERM')
    const t = setTimeout(() => this.child?.kill('SIGKILL'), AGENT_STOP_GRACE_MS)
    await this.exited
    clearTimeout(t)
  }

  close (): void {
    this.log.end()
  }
}
