/** Starts and stops traffic.ts inside a guest's namespace. */
import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { tool } from '../drivers/lab-host/exec.ts'
import { LAB_ECHO_PORT } from '../drivers/lab-host/state.ts'
import { SINK_PORT } from '../net/guest.ts'
import type { TrafficStats } from './rates.ts'

const SCRIPT = fileURLToPath(new URL('./traffic.ts', import.meta.url))
const STOP_GRACE_MS = 1_000

export interface TrafficInit {
  ns: string
  id: string
  ratesFile: string
  statsFile: string
  /** Where its stderr goes. */
  logFile: string
}

export class TrafficProcess {
  readonly init: TrafficInit
  private readonly child: ChildProcess
  private readonly exited: Promise<void>

  constructor (init: TrafficInit) {
    this.init = init
    const log = openSync(init.logFile, 'a')
    this.child = spawn(tool('ip'), ['netns', 'exec', init.ns, process.execPath, '--disable-warning=ExperimentalWarning', SCRIPT,
      '--id', init.id, '--rates', init.ratesFile, '--stats', init.statsFile, '--echo-port', String(LAB_ECHO_PORT), '--sink-port', String(SINK_PORT)],
    { stdio: ['ignore', 'ignore', log] })
    closeSync(log)
    this.child.on('error', () => {})
    this.exited = new Promise(resolve => this.child.once('exit', () => resolve()))
  }

  get running (): boolean {
    return this.child.exitCode === null && this.child.signalCode === null
  }

  /** SIGTERM (it writes its stats), SIGKILL after a grace period. */
  async stop (): Promise<void> {
    if (!this.running) return
    this.child.kill('SIGTERM')
    const t = setTimeout(() => this.child.kill('SIGKILL'), STOP_GRACE_MS)
    await this.exited
    clearTimeout(t)
  }

  async stats (): Promise<TrafficStats | undefined> {
    try { return JSON.parse(await readFile(this.init.statsFile, 'utf8')) as TrafficStats } catch { return undefined }
  }
}
