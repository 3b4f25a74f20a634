/** Pane 4: migrations in flight in the mesh, and the latest ones seen. */
import { clock } from '../event-line.ts'
import { seg, type Line } from '../screen.ts'
import type { Pane, PaneContext } from './context.ts'
import { heading, inFlightBlock } from './sections.ts'

export const migrationsPane: Pane = {
  key: '4',
  title: 'Migrations',
  draw (ctx: PaneContext): Line[] {
    const local = ctx.state.status?.inFlight ?? []
    const lines: Line[] = [...inFlightBlock(ctx), `this host's own: ${local.length === 0 ? 'none' : local.join(' ')}`, '', heading('RECENT  (this agent\'s, and others\' reported by gossip)')]
    const recent = [...ctx.state.migrations].reverse()
    if (recent.length === 0) lines.push([seg('none seen since the console started', 'dim')])
    for (const m of recent) {
      const style = m.phase === 'failed' ? 'red' : m.phase === 'done' ? 'green' : 'yellow'
      lines.push([seg(`${clock(m.atMs)} `), seg(m.phase.padEnd(8), style), seg(`${m.vm}  ${m.from} -> ${m.to}  reported by ${m.by}${m.detail !== undefined ? `  (${m.detail})` : ''}`)])
    }
    return lines
  }
}
