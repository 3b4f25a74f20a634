/** `heliotrope monitor`: stream what the local agent sees and does, like `serf monitor`. */
import { EVENT_TYPES } from '../api/types.ts'
import { describeEvent } from '../console/event-line.ts'
import { TOPICS } from '../../lib/wire/messages.ts'
import { REACH_OPTIONS, REACH_USAGE, apiClient } from './reach.ts'
import { listOption, type Command } from './run.ts'
import { definedOnly } from '../../lib/defined.ts'

export const monitorCommand: Command = {
  name: 'monitor',
  summary: 'stream the agent\'s events: gossip in and out, drops, plans, migrations',
  usage: `Usage: heliotrope monitor [--api ADDR | --config FILE] [--type T,...] [--topic T,...] [--json]

Prints the agent's events as they happen, one per line, until interrupted
(Ctrl-C) or the agent stops: gossip received (in) and published (out) with
the decoded message summarised, dropped messages with the reason, plans
accepted, migrations started, done or failed.

${REACH_USAGE}
  --type T     only these events: ${EVENT_TYPES.join(', ')}
  --topic T    only these gossip topics: ${TOPICS.join(', ')}
  --json       one JSON event per line, message bodies in full
`,
  options: { ...REACH_OPTIONS, json: { type: 'boolean' }, type: { type: 'string' }, topic: { type: 'string' } },
  async run (args) {
    const types = listOption(args, 'type', EVENT_TYPES)
    const topics = listOption(args, 'topic', TOPICS)
    const client = await apiClient(args)
    const abort = new AbortController()
    const onSignal = (): void => abort.abort()
    process.once('SIGINT', onSignal)
    process.once('SIGTERM', onSignal)
    try {
      for await (const e of client.events(definedOnly({ types, topics }), abort.signal)) {
        process.stdout.write((args.values.json === true ? JSON.stringify(e) : describeEvent(e)) + '\n')
      }
    } finally {
      process.off('SIGINT', onSignal)
      process.off('SIGTERM', onSignal)
    }
    if (abort.signal.aborted) return 0
    process.stderr.write(`heliotrope monitor: the agent at ${client.where} closed the stream (stopped?)\n`)
    return 1
  }
}
