/** Pane 5: dropped gossip: totals by reason and the latest drops with their senders. */
import { clock } from '../event-line.ts'
import { seg, type Line } from '../screen.ts'
import type { Pane, PaneContext } from './context.ts'
import { heading, peerName } from './sections.ts'

export const dropsPane: Pane = {
  key: '5',
  title: 'Drops',
  draw (ctx: PaneContext): Line[] {
    const drops = ctx.state.view?.drops ?? {}
    const lines: Line[] = [heading('DROPPED MESSAGES BY REASON  (since the agent started)')]
    for (const [reason, n] of Object.entries(drops)) lines.push(n > 0 ? [seg(`${reason.padEnd(18)} ${n}`, 'red')] : [seg(`${reason.padEnd(18)} 0`, 'dim')])
    lines.push('', heading('LATEST DROPS'))
    const recent = [...ctx.state.drops].reverse()
    if (recent.length === 0) lines.push([seg('none since the console started', 'dim')])
    for (const d of recent) lines.push(`${clock(d.atMs)} ${d.topic.padEnd(7)} ${d.reason.padEnd(18)} from ${peerName(ctx, d.peer)}`)
    return lines
  }
}
