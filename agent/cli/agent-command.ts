/** `heliotrope agent --config FILE`: runs the daemon until SIGTERM or SIGINT; SIGHUP reloads the config. */
import { readConfigFile } from '../config-file.ts'
import { startDaemon, type Daemon } from '../daemon.ts'
import { PRODUCTION_DRIVERS } from '../drivers/index.ts'
import type { DriverRegistry } from '../drivers/kinds.ts'
import { createLogger, LEVELS, type Level, type LevelCell, type Logger } from '../log.ts'
import { UsageError } from './errors.ts'
import type { Command, ParsedArgs } from './run.ts'

/** Shared with `heliotrope lab agent`, which takes the same options. */
export const AGENT_OPTIONS: Command['options'] = { config: { type: 'string', short: 'c' }, 'log-level': { type: 'string' } }

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run the agent (the daemon) on this host',
  usage: `Usage: heliotrope agent --config FILE [--log-level debug|info|warn|error]

Runs the heliotrope agent with the JSON config FILE (see docs/operations.md,
"Config"). Logs are JSON lines on stdout (readable lines on a terminal).
SIGTERM or SIGINT stops it cleanly: it announces its leave, lets a migration
in flight finish or abort (and reports it), then exits.

SIGHUP (systemctl reload) re-reads FILE: the planner and safety limits,
logLevel, and topologyFile when the file's bytes are unchanged apply at
once; a topology file with new bytes is staged and runs once every live
member staged it (docs/operations.md, "Changing the topology"); any other
change is logged (warn) as needing a restart and not applied; a file
that cannot be read or is invalid is refused (error) and the running
config kept. --log-level sets the level at start, over the
config's logLevel; a reload that changes logLevel sets it.

The local API (for heliotrope status, members, monitor, console and
Prometheus) listens on [::1]:7878 unless the config's "api" section says
otherwise (listen, port, enabled; a non-loopback listen also needs
allowNonLoopback: true).
`,
  options: AGENT_OPTIONS,
  run: async (args) => await runAgent(args, PRODUCTION_DRIVERS)
}

/**
 * The command's work, with the driver kinds the config may name: production's
 * here; the lab's `heliotrope lab agent` runs the same with its own registry.
 */
export async function runAgent (args: ParsedArgs, drivers: DriverRegistry): Promise<number> {
  const path = args.values.config
  if (typeof path !== 'string') throw new UsageError('--config FILE is required')
  const flag = args.values['log-level'] as string | undefined
  if (flag !== undefined && !(LEVELS as readonly string[]).includes(flag)) throw new UsageError(`--log-level must be debug, info, warn or error, not ${JSON.stringify(flag)}`)
  const config = await readConfigFile(path, drivers)
  const level: LevelCell = { level: (flag as Level | undefined) ?? config.logLevel ?? 'info' }
  const log = createLogger({ level })
  // Installed before the start: Node's default for SIGHUP is to exit, and a
  // reload sent while the agent starts must not kill it (it runs once started).
  const reloads = new Reloads(path, log)
  process.on('SIGHUP', reloads.signal)
  try {
    const daemon = await startDaemon(config, { log, drivers, logLevel: level })
    reloads.ready(daemon)
    await new Promise<void>(resolve => {
      const stop = (signal: string): void => {
        log.info('stopping', { signal })
        process.off('SIGTERM', onTerm); process.off('SIGINT', onInt)
        daemon.stop().then(resolve, err => { log.error('stop failed', { error: String(err) }); resolve() })
      }
      const onTerm = (): void => stop('SIGTERM')
      const onInt = (): void => stop('SIGINT')
      process.on('SIGTERM', onTerm)
      process.on('SIGINT', onInt)
    })
  } finally {
    process.off('SIGHUP', reloads.signal)
  }
  return 0
}

/** SIGHUPs, one reload at a time: a signal during a reload (or the start) runs one more reload after it. */
class Reloads {
  private daemon: Daemon | undefined
  private running = false
  private again = false
  private readonly path: string
  private readonly log: Logger

  constructor (path: string, log: Logger) {
    this.path = path
    this.log = log
  }

  readonly signal = (): void => {
    this.log.info('reloading the config', { signal: 'SIGHUP', config: this.path })
    this.again = true
    void this.drain()
  }

  ready (daemon: Daemon): void {
    this.daemon = daemon
    void this.drain()
  }

  private async drain (): Promise<void> {
    if (this.running || this.daemon === undefined) return
    this.running = true
    try {
      while (this.again) {
        this.again = false
        // Never throws (a bad file is a refused reload); the report is logged by the agent.
        await this.daemon.reload(this.path)
      }
    } finally {
      this.running = false
    }
  }
}
