/**
 * Tells systemd how the agent is doing (Type=notify): READY=1 once it has
 * joined the cluster, a STATUS= line per round for `systemctl status`, and
 * STOPPING=1 on the way out. Node cannot send unix datagrams itself, so this
 * runs systemd-notify(1) (the unit sets NotifyAccess=all for it). Without
 * NOTIFY_SOCKET (not under systemd) every call does nothing.
 */
import { execFile } from 'node:child_process'
import { resolveCommand } from '../host/system-tools.ts'
import type { Logger } from '../log.ts'

/** How long readiness waits for a first peer before saying ready anyway. */
export const JOIN_WAIT_MS = 45_000
export const JOIN_POLL_MS = 250
const NOTIFY_TIMEOUT_MS = 5_000

export type RunNotify = (args: string[]) => Promise<void>

export class SystemdNotifier {
  private readonly log: Logger
  private readonly run: RunNotify
  readonly enabled: boolean

  constructor (components: { log: Logger, run?: RunNotify }, env: NodeJS.ProcessEnv = process.env) {
    this.log = components.log
    this.enabled = env.NOTIFY_SOCKET !== undefined && env.NOTIFY_SOCKET !== ''
    this.run = components.run ?? runSystemdNotify
  }

  async ready (status: string): Promise<void> {
    await this.send(['--ready', `--status=${status}`])
  }

  async status (status: string): Promise<void> {
    await this.send([`--status=${status}`])
  }

  async stopping (): Promise<void> {
    await this.send(['STOPPING=1'])
  }

  private async send (args: string[]): Promise<void> {
    if (!this.enabled) return
    try {
      await this.run(args)
    } catch (err) {
      this.log.warn('systemd-notify failed', { args, error: (err as Error).message })
    }
  }
}

async function runSystemdNotify (args: string[]): Promise<void> {
  await new Promise<void>((resolve, reject) => {
    execFile(resolveCommand('systemd-notify'), args, { timeout: NOTIFY_TIMEOUT_MS }, err => (err === null ? resolve() : reject(err)))
  })
}

/**
 * Resolves once `peers()` counts another live member, or when `waitMs` has
 * passed (the first host of a cluster has no one to join), or on abort.
 * Returns whether a peer was seen.
 */
export async function waitUntilJoined (peers: () => number, waitMs: number, signal?: AbortSignal): Promise<boolean> {
  const end = Date.now() + waitMs
  while (signal?.aborted !== true) {
    if (peers() > 0) return true
    if (Date.now() >= end) return false
    await new Promise(resolve => setTimeout(resolve, JOIN_POLL_MS))
  }
  return false
}
