/** Pane 1: the whole mesh on one screen. */
import { describeEvent } from '../event-line.ts'
import type { Line } from '../screen.ts'
import type { Pane, PaneContext } from './context.ts'
import { dropsBlock, electionBlock, heading, inFlightBlock, latestPlanned, membersBlock, planBlock, ratesBlock } from './sections.ts'
import { seg } from '../screen.ts'

/** When the latest plan moved nothing, the last one that did: what changed most recently. */
function lastMovesLine (ctx: PaneContext): Line[] {
  const latest = latestPlanned(ctx)
  if (latest === undefined || latest.moves.length > 0) return []
  const moved = ctx.state.rounds?.rounds.find(r => r.moves.length > 0)
  if (moved === undefined) return []
  return [[seg(`last moves: round ${moved.round} by ${moved.planner ?? '?'}: ${moved.moves.map(m => `${m.vm} ${m.from}->${m.to}`).join(', ')} (pane 3)`, 'dim')]]
}

export const overviewPane: Pane = {
  key: '1',
  title: 'Overview',
  draw (ctx: PaneContext): Line[] {
    const lines: Line[] = [
      ...membersBlock(ctx, false), '',
      ...ratesBlock(ctx), '',
      ...electionBlock(ctx), '',
      ...planBlock(latestPlanned(ctx), 6),
      ...lastMovesLine(ctx), '',
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
