/** `heliotrope approve [ROUND]`: lets a waiting plan run (mode approve), on every host. */
import { UsageError } from './errors.ts'
import { CONTROL_OPTIONS, CONTROL_USAGE, sendControl } from './control-socket.ts'
import type { Command } from './run.ts'

export const approveCommand: Command = {
  name: 'approve',
  summary: 'approve a waiting plan (mode approve); without ROUND, list them',
  usage: `Usage: heliotrope approve [ROUND] [--config FILE | --socket PATH]

In mode approve, every round's plan waits for an operator. The agent logs
"awaiting approval: heliotrope approve ROUND"; run that on any host. The
approval is gossiped, so every agent carries out its own moves of that plan;
the other waiting plans are dropped (they did not count its moves). Without
ROUND, lists the plans waiting on this host.

${CONTROL_USAGE}
`,
  options: CONTROL_OPTIONS,
  async run (args) {
    if (args.positionals.length > 1) throw new UsageError('one ROUND at a time')
    const raw = args.positionals[0]
    if (raw === undefined) return (await sendControl(args, { op: 'approve' })).code
    const round = Number(raw)
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(round)) throw new UsageError(`ROUND is a round number as the logs print it, not ${JSON.stringify(raw)}`)
    return (await sendControl(args, { op: 'approve', round })).code
  }
}
