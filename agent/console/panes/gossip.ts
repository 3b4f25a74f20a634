/** Pane 6: the raw decoded gossip, newest at the bottom, with a filter. */
import { describeEvent } from '../event-line.ts'
import { seg, type Line } from '../screen.ts'
import type { Pane, PaneContext } from './context.ts'
import { heading } from './sections.ts'

export const gossipPane: Pane = {
  key: '6',
  title: 'Gossip',
  scrollsItself: true,
  draw (ctx: PaneContext): Line[] {
    const needle = ctx.filter.toLowerCase()
    const all = ctx.state.events.map(describeEvent).filter(l => needle === '' || l.toLowerCase().includes(needle))
    const room = Math.max(1, ctx.height - 1)
    const end = Math.max(0, all.length - ctx.scroll)
    const shown = all.slice(Math.max(0, end - room), end)
    const where = ctx.scroll > 0 ? `, scrolled back ${ctx.scroll}` : ''
    return [
      heading(`GOSSIP  ${all.length} event${all.length === 1 ? '' : 's'}${needle === '' ? '' : ` matching "${ctx.filter}"`}${where}`),
      ...shown.map(l => (l.includes(' DROP ') ? [seg(l, 'red')] : l))
    ]
  }
}
