/** Pane 2: every member with its VMs, capacity and digest. */
import { rate } from '../event-line.ts'
import { seg, type Line } from '../screen.ts'
import type { Pane, PaneContext } from './context.ts'
import { heading, membersBlock } from './sections.ts'

export const membersPane: Pane = {
  key: '2',
  title: 'Members',
  draw (ctx: PaneContext): Line[] {
    const lines = membersBlock(ctx, true)
    const view = ctx.state.view
    if (view === undefined) return lines
    lines.push('', heading('TRAFFIC DIGESTS  (what each host last reported for its VMs)'))
    for (const m of view.members) {
      if (m.digest === undefined) { lines.push([seg(`${m.host}: no digest yet`, 'dim')]); continue }
      const vms = m.digest.vms.map(v => `${v.vm} out ${rate(v.outBps)} to ${v.peers.length} peer${v.peers.length === 1 ? '' : 's'}`)
      lines.push(`${m.host} (window ${m.digest.windowMs} ms): ${vms.length === 0 ? 'no traffic' : vms.join('; ')}`)
    }
    if (view.links.length > 0) {
      lines.push('', heading(`WAN LINKS  cost ${view.cost?.toFixed(4) ?? '?'}`))
      for (const l of [...view.links].sort((a, b) => b.utilization - a.utilization)) {
        lines.push(`${l.link.padEnd(12)} ${rate(l.loadBps).padStart(10)} of ${rate(l.capacityBps).padEnd(10)} ${(l.utilization * 100).toFixed(1).padStart(5)}%`)
      }
    }
    return lines
  }
}
