/**
 * Blocks that more than one pane shows: the members table, topic rates, the
 * current round's election, a plan with its moves, drops by reason. Each
 * returns its lines; panes stack them.
 */
import { TOPICS } from '../../../lib/wire/messages.ts'
import type { MemberView, RoundView } from '../../api/types.ts'
import { ago } from '../event-line.ts'
import { seg, type Line, type Style } from '../screen.ts'
import { table } from '../table.ts'
import type { PaneContext } from './context.ts'

export function heading (text: string): Line {
  return [seg(text, ['bold', 'cyan'])]
}

const STATUS_STYLE: Record<MemberView['status'], Style> = { up: 'green', down: 'red', draining: 'yellow', leaving: 'yellow' }

export function membersBlock (ctx: PaneContext, withVms: boolean): Line[] {
  const view = ctx.state.view
  if (view === undefined) return [heading('MEMBERS'), 'waiting for the agent...']
  const rows = view.members.map(m => [
    m.self ? `${m.host}*` : m.host,
    m.dc ?? '?',
    m.status.toUpperCase(),
    String(m.vms.length),
    m.used !== undefined && m.capacity !== undefined ? `${m.used.memoryMiB}/${m.capacity.memoryMiB}` : '-',
    m.agoMs !== undefined ? ago(m.agoMs) : 'never',
    withVms ? m.vms.map(v => `${v.id}${v.migrating ? '(migrating)' : ''}${v.pinned ? '(pinned)' : ''}`).join(' ') : m.peerId.slice(-8)
  ])
  const lines = table(['HOST', 'DC', 'STATUS', 'VMS', 'MEM MiB', 'LAST SEEN', withVms ? 'VM IDS' : 'PEER'], rows)
  const up = view.members.filter(m => m.status === 'up').length
  return [
    heading(`MEMBERS  ${up}/${view.members.length} up`),
    [seg(lines[0]!, 'dim')],
    ...lines.slice(1).map((l, i) => colourStatus(l, view.members[i]!.status))
  ]
}

function colourStatus (line: string, status: MemberView['status']): Line {
  const word = status.toUpperCase()
  const at = line.indexOf(` ${word}`)
  if (at < 0) return line
  return [seg(line.slice(0, at + 1)), seg(word, STATUS_STYLE[status]), seg(line.slice(at + 1 + word.length))]
}

/** Each topic's mesh peers (by /status: '-' for an agent too old to say) and message rates (by /events). */
export function ratesBlock (ctx: PaneContext): Line[] {
  const rates = ctx.state.rates(ctx.nowMs)
  const mesh = ctx.state.status?.mesh
  const rows = TOPICS.map(t => {
    const peers = mesh?.[t]
    // A peer that is no member (a console attached as an observer) shows by its peer id's tail, as in the members table.
    const names = (peers ?? []).map(p => p.host ?? `peer:${p.peerId.slice(-8)}`).sort()
    return [t, peers === undefined ? '-' : String(peers.length), rates[t].in.toFixed(1), rates[t].out.toFixed(1), String(ctx.state.totals[t].in), String(ctx.state.totals[t].out), names.join(' ')]
  })
  const lines = table(['TOPIC', 'MESH', 'IN/s', 'OUT/s', 'IN', 'OUT', 'MESH PEERS'], rows)
  return [
    heading(`GOSSIP  mesh peers per topic; messages per second (10 s)${ctx.state.streamConnected ? '' : '  [event stream disconnected]'}`),
    [seg(lines[0]!, 'dim')],
    ...lines.slice(1).map((l, i) => (rows[i]![1] === '0' ? [seg(l, 'yellow')] : l))
  ]
}

export function electionBlock (ctx: PaneContext): Line[] {
  const s = ctx.state.status
  if (s === undefined) return [heading('ROUND'), '-']
  const rec = ctx.state.rounds?.rounds.find(r => r.round === s.round)
  // Before planning time the round is not ranked yet: show the ranking as it stands.
  const frozen = rec !== undefined && rec.ranking.length > 0
  const ranking = frozen ? rec.ranking : s.candidates
  const elected = s.planner.host
  const candidates: Line = ranking.length === 0
    ? [seg('candidates: none live', 'dim')]
    : [seg('candidates: '), ...ranking.flatMap((h, i) => [seg(i === 0 ? '' : ' > '), seg(`${i}:${h}`, h === elected ? ['bold', 'green'] : undefined)]), seg(frozen ? '' : '  (until planning time)', 'dim')]
  return [
    heading(`ROUND ${s.round}  ${ago(s.roundElapsedMs)} of ${ago(s.roundPeriodMs)}`),
    candidates,
    elected === undefined ? 'planner: none yet' : [seg('planner: '), seg(elected, ['bold', 'green']), seg(` (rank ${s.planner.rank ?? 0}${s.planner.accepted ? ', its plan is the round\'s' : ', expected'})`)]
  ]
}

/** The latest round with a plan. */
export function latestPlanned (ctx: PaneContext): RoundView | undefined {
  return ctx.state.rounds?.rounds.find(r => r.planner !== undefined && r.costBefore !== undefined)
}

export function planBlock (r: RoundView | undefined, maxMoves = Infinity): Line[] {
  if (r === undefined) return [heading('PLAN'), 'no plan seen yet']
  const head = `PLAN round ${r.round} by ${r.planner ?? '?'} (rank ${r.rank ?? '?'})  cost ${fmt(r.costBefore)} -> ${fmt(r.costAfter)}  ${r.moves.length} move${r.moves.length === 1 ? '' : 's'}${r.plannedHere ? `  planned here${r.planMs !== undefined ? ` in ${r.planMs.toFixed(1)} ms` : ''}${r.stopped !== undefined ? `, stopped: ${r.stopped}` : ''}` : ''}`
  const moves = r.moves.slice(0, maxMoves).map(m => {
    const outcome = r.outcomes.find(o => o.vm === m.vm)
    const tag = outcome === undefined ? seg('') : outcome.ok ? seg(' [done]', 'green') : seg(` [failed: ${outcome.error ?? '?'}]`, 'red')
    return [seg(`  ${m.vm}  ${m.from}${m.fromDc !== undefined ? `(${m.fromDc})` : ''} -> ${m.to}${m.toDc !== undefined ? `(${m.toDc})` : ''}  `), seg(m.why, 'dim'), tag]
  })
  const more = r.moves.length > maxMoves ? [`  ... ${r.moves.length - maxMoves} more (pane 3)`] : []
  const approval = r.approval === undefined ? [] : [[seg('  approval: '), seg(APPROVAL_WORDS[r.approval] ?? r.approval, r.approval === 'approved' ? 'green' : r.approval === 'awaiting' ? ['bold', 'yellow'] : 'dim')] satisfies Line]
  return [heading(head), ...approval, ...(r.moves.length === 0 ? [`  no moves: ${NO_MOVES_WHY[r.verdict ?? ''] ?? 'nothing lowers the cost enough'}`] : moves), ...more]
}

/** Mode approve: a plan's state here, as the operator reads it (agent/policy/approvals.ts). */
const APPROVAL_WORDS: Readonly<Record<string, string>> = {
  awaiting: 'AWAITING APPROVAL (heliotrope approve)',
  approved: 'approved',
  superseded: 'superseded by a newer plan',
  lapsed: 'lapsed unapproved',
  refused: 'refused: it no longer fits the cluster'
}

/** Why a plan moves nothing, when this agent planned it and the safety controls said (other agents see only the empty plan). */
const NO_MOVES_WHY: Readonly<Record<string, string>> = {
  'below-min-improvement': 'its gain is below the minimum improvement (safety.minImprovement)',
  'in-flight-limit': 'the migrations in flight use up the limits (safety.maxInFlight)'
}

export function dropsBlock (ctx: PaneContext): Line[] {
  const drops = ctx.state.view?.drops ?? {}
  const nonzero = Object.entries(drops).filter(([, n]) => n > 0)
  const total = nonzero.reduce((a, [, n]) => a + n, 0)
  return [
    heading(`DROPS  ${total} since the agent started`),
    nonzero.length === 0 ? [seg('none', 'dim')] : [seg(nonzero.map(([r, n]) => `${r}=${n}`).join('  '), 'red')]
  ]
}

export function inFlightBlock (ctx: PaneContext): Line[] {
  const mesh = ctx.state.view?.migrating ?? []
  return [
    heading(`MIGRATIONS IN FLIGHT  ${mesh.length}`),
    mesh.length === 0 ? [seg('none', 'dim')] : mesh.map(m => { const to = targetOf(ctx, m.vm, m.host); return to === undefined ? `${m.vm}@${m.host}` : `${m.vm} ${m.host}->${to}` }).join('  ')
  ]
}

/**
 * Where a VM in flight is headed: the gossiped states say only that it is
 * migrating, so the target comes from the newest plan that moves it from
 * its host, else from a migration event seen.
 */
function targetOf (ctx: PaneContext, vm: string, host: string): string | undefined {
  for (const r of ctx.state.rounds?.rounds ?? []) {
    const m = r.moves.find(x => x.vm === vm && x.from === host)
    if (m !== undefined) return m.to
  }
  return ctx.state.migrations.findLast(m => m.vm === vm && m.from === host)?.to
}

/** A peer by its member's host name, when the view knows it (drops name peers by id). */
export function peerName (ctx: PaneContext, peerId: string): string {
  const host = ctx.state.view?.members.find(m => m.peerId === peerId)?.host
  return host === undefined ? `peer ${peerId}` : `${host} (${peerId.slice(-8)})`
}

function fmt (x: number | undefined): string {
  return x === undefined ? '?' : x.toFixed(4)
}
