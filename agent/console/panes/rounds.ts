/** Pane 3: the round history: who ranked where, who planned, what moved and why. */
import { seg, type Line } from '../screen.ts'
import type { Pane, PaneContext } from './context.ts'
import { electionBlock, planBlock } from './sections.ts'

export const roundsPane: Pane = {
  key: '3',
  title: 'Rounds',
  draw (ctx: PaneContext): Line[] {
    const lines: Line[] = [...electionBlock(ctx), '']
    for (const r of ctx.state.rounds?.rounds ?? []) {
      if (r.planner === undefined) {
        lines.push([seg(`round ${r.round}: no plan${r.ranking.length > 0 ? ` (candidates ${r.ranking.join(' > ')})` : ''}`, 'dim')])
        continue
      }
      lines.push(...planBlock(r))
      if (r.ranking.length > 0) lines.push([seg(`  candidates: ${r.ranking.map((h, i) => `${i}:${h}`).join(' > ')}`, 'dim')])
    }
    return lines
  }
}
