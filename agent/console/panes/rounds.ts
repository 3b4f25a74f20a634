/** Pane 3: the round history: who ranked where, who planned, what moved and why. */
import { seg, type Line } from '../screen.ts'
import type { Pane, PaneContext } from './context.ts'
import { electionBlock, heading, planBlock } from './sections.ts'

export const roundsPane: Pane = {
  key: '3',
  title: 'Rounds',
  draw (ctx: PaneContext): Line[] {
    const lines: Line[] = [...electionBlock(ctx), '', heading('ROUND HISTORY  newest first; each move with why it was chosen')]
    for (const r of ctx.state.rounds?.rounds ?? []) {
      if (r.planner === undefined) {
        lines.push([seg(`round ${r.round}: no plan${r.ranking.length > 0 ? ` (candidates ${r.ranking.join(' > ')})` : ''}`, 'dim')])
        continue
      }
      const candidates = r.ranking.length > 0 ? `  candidates ${r.ranking.join(' > ')}` : ''
      if (r.moves.length === 0) {
        lines.push(`round ${r.round}  planner ${r.planner} (rank ${r.rank ?? '?'})  cost ${r.costBefore?.toFixed(4) ?? '?'}  no moves${candidates}`)
        continue
      }
      lines.push(...planBlock(r))
      if (candidates !== '') lines.push([seg(candidates, 'dim')])
    }
    return lines
  }
}
