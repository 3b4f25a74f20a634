/** `heliotrope pin VM` and `heliotrope unpin VM`: keep a VM where it is, on every planner. */
import { UsageError } from './errors.ts'
import { sendControl } from './control-socket.ts'
import { REACH_OPTIONS, REACH_USAGE } from './reach.ts'
import type { Command } from './run.ts'

const USAGE_TAIL = `The decision is gossiped to every agent and kept in each one's state
directory (controls.json), so it survives restarts; the VM's host announces
the VM as pinned and every planner leaves it alone.

${REACH_USAGE}
`

export const pinCommand: Command = {
  name: 'pin',
  summary: 'never move a VM (without VM, list pinned VMs)',
  usage: `Usage: heliotrope pin [VM] [--api ADDR | --config FILE | --socket PATH]

Pins VM: no plan moves it until \`heliotrope unpin VM\`. Run it on any host.
${USAGE_TAIL}`,
  options: REACH_OPTIONS,
  async run (args) {
    if (args.positionals.length > 1) throw new UsageError('one VM at a time')
    const vm = args.positionals[0]
    return (await sendControl(args, vm === undefined ? { op: 'pin' } : { op: 'pin', vm })).code
  }
}

export const unpinCommand: Command = {
  name: 'unpin',
  summary: 'let planners move a pinned VM again',
  usage: `Usage: heliotrope unpin VM [--api ADDR | --config FILE | --socket PATH]

Ends a pin. Run it on any host.
${USAGE_TAIL}`,
  options: REACH_OPTIONS,
  async run (args) {
    const vm = args.positionals[0]
    if (vm === undefined || args.positionals.length > 1) throw new UsageError('VM is required (one)')
    return (await sendControl(args, { op: 'unpin', vm })).code
  }
}
