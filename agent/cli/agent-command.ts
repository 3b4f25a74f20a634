/** `heliotrope agent --config FILE`: runs the daemon until SIGTERM or SIGINT. */
import { readConfigFile } from '../config-file.ts'
import { startDaemon } from '../daemon.ts'
import { PRODUCTION_DRIVERS } from '../drivers/index.ts'
import type { DriverRegistry } from '../drivers/kinds.ts'
import { createLogger, type Level } from '../log.ts'
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
  const level = (args.values['log-level'] as string | undefined) ?? 'info'
  if (!['debug', 'info', 'warn', 'error'].includes(level)) throw new UsageError(`--log-level must be debug, info, warn or error, not ${JSON.stringify(level)}`)
  const config = await readConfigFile(path, drivers)
  const log = createLogger({ level: level as Level })
  const daemon = await startDaemon(config, { log, drivers })
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
  return 0
}
