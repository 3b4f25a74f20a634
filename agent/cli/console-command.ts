/** `heliotrope console`: the gossip debug console, full screen, against an agent's API. */
import { ConsoleApp, DEFAULT_REFRESH_MS, KEY_HELP } from '../console/app.ts'
import { REACH_OPTIONS, REACH_USAGE, apiClient } from './reach.ts'
import { UsageError } from './errors.ts'
import { numberOption, type Command } from './run.ts'

export const consoleCommand: Command = {
  name: 'console',
  summary: 'the gossip debug console: members, rates, rounds, plans, drops, live',
  usage: `Usage: heliotrope console [--api ADDR | --config FILE] [--refresh MS] [--json]

A full-screen view of the mesh through one agent: members (DC, VMs, last
seen, down), each gossip topic's message rates, the current round with its
ranked planner candidates and the elected one, the latest plans with why
each VM moves, migrations in flight, dropped messages with reasons, and
the raw decoded gossip with a filter.

Panes: 1 Overview  2 Members  3 Rounds  4 Migrations  5 Drops  6 Gossip
Keys:  ${KEY_HELP}

${REACH_USAGE}
  --refresh MS how often to poll status, view and rounds (default ${DEFAULT_REFRESH_MS})
  --json       no screen: print the agent's events, one JSON object per line
`,
  options: { ...REACH_OPTIONS, json: { type: 'boolean' }, refresh: { type: 'string' } },
  async run (args) {
    const refreshMs = numberOption(args, 'refresh', DEFAULT_REFRESH_MS, { integer: true, min: 100 })
    const client = await apiClient(args)
    if (args.values.json === true) {
      const abort = new AbortController()
      const onSignal = (): void => abort.abort()
      process.once('SIGINT', onSignal)
      for await (const e of client.events({}, abort.signal)) process.stdout.write(JSON.stringify(e) + '\n')
      process.off('SIGINT', onSignal)
      return abort.signal.aborted ? 0 : 1
    }
    // Fail fast with the usual message when nothing answers; once running, the console rides out restarts.
    await client.json('/status')
    if (process.stdout.isTTY !== true) throw new UsageError('the console needs a terminal; use --json for one event per line, or `heliotrope monitor`')
    const app = new ConsoleApp({ client, input: process.stdin, output: process.stdout, refreshMs })
    const stop = (): void => app.stop()
    process.once('SIGTERM', stop)
    try {
      await app.run()
    } finally {
      process.off('SIGTERM', stop)
    }
    return 0
  }
}
