/** Pane 1: the whole mesh on one screen. */
import { describeEvent } from '../event-line.ts'
import type { Line } from '../screen.ts'
import type { Pane, PaneContext } from './context.ts'
import { dropsBlock, electionBlock, heading, inFlightBlock, latestPlanned, membersBlock, planBlock, ratesBlock } from './sections.ts'

export const overviewPane: Pane = {
  key: '1',
  title: 'Overview',
  draw (ctx: PaneContext): Line[] {
    const lines: Line[] = [
      ...membersBlock(ctx, false), '',
      ...ratesBlock(ctx), '',
      ...electionBlock(ctx), '',
      ...planBlock(latestPlanned(ctx), 6), '',
      ...inFlightBlock(ctx), '',
      ...dropsBlock(ctx)
    ]
    // Whatever room is left shows the newest gossip.
    const room = ctx.height - lines.length - 2
    if (room >= 2) {
      const tail = ctx.state.events.slice(-room).map(describeEvent)
      lines.push('', heading('LATEST EVENTS (pane 6 for all, with a filter)'), ...tail)
    }
    return lines
  }
}
