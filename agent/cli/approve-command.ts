/** `heliotrope approve [ROUND]`: lets a waiting plan run (mode approve), on every host. */
import { UsageError } from './errors.ts'
import { sendControl } from './control-socket.ts'
import { REACH_OPTIONS, REACH_USAGE } from './reach.ts'
import type { Command } from './run.ts'

export const approveCommand: Command = {
  name: 'approve',
  summary: 'approve the waiting plan (mode approve), checked against the cluster now; without ROUND, show it',
  usage: `Usage: heliotrope approve [ROUND] [--api ADDR | --config FILE | --socket PATH]

In mode approve, every round's plan waits for an operator; only the newest
waits (an older one was made from an older view). The agent logs "awaiting
approval: heliotrope approve ROUND"; run that on any host. The plan is
checked against the cluster as it is then: if a VM has moved or been
pinned, a target has no room, or the moves no longer lower the cost at
today's traffic, it is refused with the reason. Else the approval is
gossiped, every agent checks it again and carries out its own moves.
Without ROUND, shows the waiting plan with its cost when planned and now.

${REACH_USAGE}
`,
  options: REACH_OPTIONS,
  async run (args) {
    if (args.positionals.length > 1) throw new UsageError('one ROUND at a time')
    const raw = args.positionals[0]
    if (raw === undefined) return (await sendControl(args, { op: 'approve' })).code
    const round = Number(raw)
    if (!/^\d+$/.test(raw) || !Number.isSafeInteger(round)) throw new UsageError(`ROUND is a round number as the logs print it, not ${JSON.stringify(raw)}`)
    return (await sendControl(args, { op: 'approve', round })).code
  }
}
