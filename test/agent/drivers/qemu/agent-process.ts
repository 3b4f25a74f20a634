/**
 * Test helper: one real agent (`heliotrope agent --config FILE`) as its own
 * process inside a host's network namespace, with its JSON log lines kept
 * (and written to a file) so a test can wait for one and read its fields.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { createWriteStream } from 'node:fs'
import { createInterface } from 'node:readline'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'

const BIN = fileURLToPath(new URL('../../../../agent/bin/heliotrope.js', import.meta.url))
/** The agent's own grace for migrations in flight is 5 s; a little more before SIGKILL. */
export const AGENT_STOP_GRACE_MS = 8_000

export type LogRecord = Record<string, unknown> & { msg?: string }

export class AgentProcess {
  readonly host: string
  readonly records: LogRecord[] = []
  #child: ChildProcess
  #exited: Promise<number | null>

  /** `prefix` runs a program in the host's namespace (['ip', 'netns', 'exec', NS]). */
  constructor (host: string, prefix: string[], configPath: string, logPath: string) {
    this.host = host
    const log = createWriteStream(logPath, { flags: 'a' })
    // process.execPath: the node that runs the tests (24), not whatever `node` the namespace's PATH finds.
    const [cmd, ...args] = [...prefix, process.execPath, BIN, 'agent', '--config', configPath]
    const child = spawn(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    this.#child = child
    child.on('error', () => {})
    createInterface({ input: child.stdout! }).on('line', line => {
      log.write(line + '\n')
      if (!line.startsWith('{')) return
      try { this.records.push(JSON.parse(line) as LogRecord) } catch { /* not a log record */ }
    })
    child.stderr!.on('data', (d: Buffer) => log.write(d))
    this.#exited = new Promise(resolve => child.once('exit', code => { log.end(); resolve(code) }))
  }

  get running (): boolean {
    return this.#child.exitCode === null && this.#child.signalCode === null
  }

  /** Waits for a log record that `match` accepts; throws after `timeoutMs` or when the agent exits. */
  async waitFor (match: (r: LogRecord) => boolean, timeoutMs: number, what: string): Promise<LogRecord> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.records.find(match)
      if (found !== undefined) return found
      if (!this.running) throw new Error(`agent ${this.host} exited (code ${this.#child.exitCode}) before ${what}`)
      if (Date.now() > deadline) throw new Error(`agent ${this.host}: no ${what} within ${timeoutMs} ms`)
      await sleep(200)
    }
  }

  /** kill -9: a crash, with no chance to cancel or hand over anything (its guests live on: QEMU is daemonized). */
  async kill (): Promise<void> {
    if (this.running) this.#child.kill('SIGKILL')
    await this.#exited
  }

  /** SIGTERM (a graceful leave), SIGKILL after the grace period; true when the agent exited by itself. */
  async stop (graceMs = AGENT_STOP_GRACE_MS): Promise<boolean> {
    if (!this.running) return true
    let killed = false
    this.#child.kill('SIGTERM')
    const timer = setTimeout(() => { killed = true; this.#child.kill('SIGKILL') }, graceMs)
    await this.#exited
    clearTimeout(timer)
    return !killed
  }
}
