/** `heliotrope drain` and `heliotrope undrain`: empty this host for maintenance, and end it. */
import { controlRequest } from '../control-socket/client.ts'
import { UsageError } from './errors.ts'
import { sendControl } from './control-socket.ts'
import { controlSocket, REACH_OPTIONS, REACH_USAGE } from './reach.ts'
import { numberOption, type Command } from './run.ts'

export const DRAIN_POLL_MS = 2_000
export const DEFAULT_DRAIN_TIMEOUT_S = 3_600

export const drainCommand: Command = {
  name: 'drain',
  summary: 'move every VM off this host and take no new ones',
  usage: `Usage: heliotrope drain [--wait] [--timeout SECONDS] [--api ADDR | --config FILE | --socket PATH]

Drains this host for maintenance: it takes no VMs, is no planner, and each
round's plan moves its VMs away first (within the migration limits, so a few
per round), wherever they cost least. Pinned VMs stay until unpinned. The
drain is kept across restarts; \`heliotrope undrain\` ends it.

  --wait            wait until no VM is left here (exit 1 at the timeout, or
                    at once in mode observe or dry-run, where nothing moves;
                    in mode approve each evacuation waits for an approval)
  --timeout SECONDS how long --wait waits (default ${DEFAULT_DRAIN_TIMEOUT_S})
${REACH_USAGE}
`,
  options: { ...REACH_OPTIONS, wait: { type: 'boolean' }, timeout: { type: 'string' } },
  async run (args) {
    if (args.positionals.length > 0) throw new UsageError('drain takes no arguments: it drains the host it runs on')
    const timeoutS = numberOption(args, 'timeout', DEFAULT_DRAIN_TIMEOUT_S, { min: 1 })
    const first = await sendControl(args, { op: 'drain' })
    if (first.code !== 0 || args.values.wait !== true) return first.code
    const path = await controlSocket(args)
    const end = Date.now() + timeoutS * 1000
    let last = -1
    let lastWaiting = -1
    for (;;) {
      const reply = await controlRequest(path, { op: 'controls' })
      if (!reply.ok) { process.stderr.write(`heliotrope drain: ${reply.error}\n`); return 1 }
      const { vms, pinned, mode, waiting } = reply.data as { vms: string[], pinned: string[], mode: string, waiting: unknown[] }
      const movable = vms.filter(vm => !pinned.includes(vm))
      // Say what the wait depends on: in observe and dry-run nothing ever
      // migrates, and in approve every evacuation waits for an operator.
      if (movable.length > 0 && (mode === 'observe' || mode === 'dry-run')) {
        process.stderr.write(`heliotrope drain: mode ${mode}: nothing migrates, so the wait would never end (the drain stays set; \`heliotrope cluster set mode approve\` or \`auto\` lets it run)\n`)
        return 1
      }
      if (movable.length > 0 && mode === 'approve' && waiting.length !== lastWaiting) {
        process.stdout.write(`mode approve: each evacuation plan waits for \`heliotrope approve\` (${waiting.length} waiting now)\n`)
        lastWaiting = waiting.length
      }
      if (movable.length === 0) {
        process.stdout.write(vms.length === 0 ? 'drained: no VM left here\n' : `drained but for pinned VMs: ${vms.join(' ')}\n`)
        return 0
      }
      if (movable.length !== last) { process.stdout.write(`${movable.length} VM(s) left: ${movable.join(' ')}\n`); last = movable.length }
      if (Date.now() > end) { process.stderr.write(`heliotrope drain: ${movable.length} VM(s) still here after ${timeoutS} s\n`); return 1 }
      await new Promise(resolve => setTimeout(resolve, DRAIN_POLL_MS))
    }
  }
}

export const undrainCommand: Command = {
  name: 'undrain',
  summary: 'end a drain: this host takes VMs again',
  usage: `Usage: heliotrope undrain [--api ADDR | --config FILE | --socket PATH]

${REACH_USAGE}
`,
  options: REACH_OPTIONS,
  async run (args) {
    if (args.positionals.length > 0) throw new UsageError('undrain takes no arguments')
    return (await sendControl(args, { op: 'undrain' })).code
  }
}
