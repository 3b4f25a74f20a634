/** The console's parts without a terminal: keys, lines, frames and panes from a fixed state. */
import test from 'ava'
import type { RoundsResponse, StatusResponse, ViewResponse } from '../../../agent/api/types.ts'
import { parseKeys } from '../../../agent/console/keys.ts'
import { PANES } from '../../../agent/console/panes/index.ts'
import { frame, plain, renderLine, seg } from '../../../agent/console/screen.ts'
import { ConsoleState } from '../../../agent/console/state.ts'

test('raw input becomes keys: characters, Tab, Shift-Tab, arrows, Escape, Enter, Backspace, Ctrl-C', t => {
  t.deepEqual(parseKeys('1\t\x1b[Z\x1b[A\x1b[B\x1b[5~\x1b[6~\x1b\r\x7f\x03/'), [
    { name: 'char', ch: '1' }, { name: 'tab' }, { name: 'backtab' }, { name: 'up' }, { name: 'down' }, { name: 'pageup' }, { name: 'pagedown' },
    { name: 'escape' }, { name: 'enter' }, { name: 'backspace' }, { name: 'ctrl-c' }, { name: 'char', ch: '/' }
  ])
  t.deepEqual(parseKeys('\x1b[1;5Cq'), [{ name: 'char', ch: 'q' }], 'unknown sequences are skipped whole')
})

test('lines are cut to the width with their styles; control characters from gossip cannot drive the terminal', t => {
  t.is(renderLine([seg('abc'), seg('defgh', 'red')], 5), 'abc\x1b[31mde\x1b[0m')
  t.is(renderLine('evil\x1b[2Jhost', 80), 'evil?[2Jhost')
  const f = frame(['one', 'two'], 10, 3)
  t.is(f, '\x1b[Hone\x1b[K\r\ntwo\x1b[K\r\n\x1b[K')
})

function fixture (): ConsoleState {
  const s = new ConsoleState()
  const now = Date.now()
  s.status = { api: 1, cluster: 'c1', host: 'a', peerId: 'P-a', dc: 'A', round: 100, roundElapsedMs: 700, roundPeriodMs: 1500, mode: 'auto', members: { total: 2, live: 1, down: 1, leaving: 0, draining: 0 }, planner: { round: 100, host: 'a', rank: 0, accepted: true }, candidates: ['a'], inFlight: [], mesh: { host: [{ peerId: 'P-b', host: 'b' }], traffic: [{ peerId: 'P-b', host: 'b' }, { peerId: '12D3KooWconsole1' }], plan: [], event: [{ peerId: 'P-b', host: 'b' }] }, startedAtMs: now - 5000, uptimeMs: 5000, nowMs: now } satisfies StatusResponse
  s.view = {
    host: 'a', nowMs: now, cost: 0.25, links: [{ link: 'A->B', from: 'A', to: 'B', capacityBps: 1e9, loadBps: 5e8, utilization: 0.5 }], migrating: [{ vm: 'vm1', host: 'a' }],
    drops: { replay: 2, 'not-member': 0 },
    members: [
      { host: 'a', peerId: 'P-a', self: true, dc: 'A', status: 'up', agoMs: 100, lastSeenMs: now - 100, capacity: { memoryMiB: 4096, vcpus: 4 }, used: { memoryMiB: 1024, vcpus: 1 }, vms: [{ id: 'vm1', memoryMiB: 1024, vcpus: 1, pinned: false, migrating: true, addresses: [] }], seq: {} },
      { host: 'b', peerId: 'P-b', self: false, status: 'down', vms: [], seq: {} }
    ]
  } satisfies ViewResponse
  s.rounds = {
    host: 'a', current: 100,
    rounds: [{ round: 99, ranking: ['a', 'b'], planner: 'a', rank: 0, plannedHere: true, costBefore: 0.5, costAfter: 0.25, stopped: 'converged', planMs: 3.2, outcomes: [{ vm: 'vm1', to: 'b', ok: true }], moves: [{ vm: 'vm1', from: 'a', to: 'b', fromDc: 'A', toDc: 'B', cost: 0.25, gain: 0.25, relieves: 'A->B', why: 'relieves A->B; cost 0.5000 -> 0.2500 (gain 0.2500)' }] }]
  } satisfies RoundsResponse
  s.ingest({ type: 'drop', topic: 'host', reason: 'replay', peer: 'P-x', atMs: now })
  return s
}

test('panes draw the state: members up and down, the plan and why, in flight, drops', t => {
  const state = fixture()
  const draw = (key: string): string => PANES.find(p => p.key === key)!.draw({ state, nowMs: Date.now(), width: 120, height: 40, filter: '', scroll: 0 }).map(plain).join('\n')
  const overview = draw('1')
  t.regex(overview, /^MEMBERS {2}1\/2 up$/m)
  t.regex(overview, /^a\* +A +UP +1 +1024\/4096/m)
  t.regex(overview, /^b +\? +DOWN +0 +- +never/m)
  t.regex(overview, /^PLAN round 99 by a \(rank 0\) {2}cost 0\.5000 -> 0\.2500 {2}1 move {2}planned here in 3\.2 ms, stopped: converged$/m)
  t.regex(overview, /^ {2}vm1 {2}a\(A\) -> b\(B\) {2}relieves A->B; cost 0\.5000 -> 0\.2500 \(gain 0\.2500\) \[done\]$/m)
  t.regex(overview, /^vm1 a->b$/m, 'a VM in flight shows its target, from the plan that moves it')
  t.regex(overview, /^replay=2$/m)
  t.regex(draw('2'), /^A->B +500\.0Mb\/s of 1\.00Gb\/s +50\.0%$/m)
  t.regex(draw('5'), /replay +2\n/)
  t.regex(draw('5'), / host +replay +from peer P-x$/m, 'a sender the view does not know: by its peer id')
  state.ingest({ type: 'drop', topic: 'plan', reason: 'replay', peer: 'P-b', atMs: Date.now() })
  t.regex(draw('5'), / plan +replay +from b \(P-b\)$/m, 'a member: by its host name')
  state.rounds!.rounds = []
  t.regex(draw('1'), /^vm1@a$/m, 'no plan or event names the target: the host alone')
  state.ingest({ type: 'migration', phase: 'started', vm: 'vm1', from: 'a', to: 'c', atMs: Date.now() })
  t.regex(draw('1'), /^vm1 a->c$/m, 'the target from a migration event')
})

test('mode approve: a plan shows its state here (awaiting, approved, superseded, lapsed, refused)', t => {
  const state = fixture()
  const draw = (): string => PANES.find(p => p.key === '1')!.draw({ state, nowMs: Date.now(), width: 120, height: 40, filter: '', scroll: 0 }).map(plain).join('\n')
  t.notRegex(draw(), /approval:/, 'mode auto: no approval line')
  const words: Array<[string, RegExp]> = [
    ['awaiting', /^ {2}approval: AWAITING APPROVAL \(heliotrope approve\)$/m],
    ['approved', /^ {2}approval: approved$/m],
    ['superseded', /^ {2}approval: superseded by a newer plan$/m],
    ['lapsed', /^ {2}approval: lapsed unapproved$/m],
    ['refused', /^ {2}approval: refused: it no longer fits the cluster$/m]
  ]
  for (const [approval, re] of words) {
    state.rounds!.rounds[0]!.approval = approval
    t.regex(draw(), re, approval)
  }
})

test('the gossip block shows each topic\'s mesh peers by host (a non-member by its peer id) beside the rates; an agent too old to say shows -', t => {
  const state = fixture()
  const overview = (): string => PANES.find(p => p.key === '1')!.draw({ state, nowMs: Date.now(), width: 120, height: 40, filter: '', scroll: 0 }).map(plain).join('\n')
  const text = overview()
  t.regex(text, /^GOSSIP {2}mesh peers per topic; messages per second \(10 s\)/m)
  t.regex(text, /^TOPIC +MESH +IN\/s +OUT\/s +IN +OUT +MESH PEERS$/m)
  t.regex(text, /^host +1 +0\.0 +0\.0 +0 +0 +b$/m)
  t.regex(text, /^traffic +2 +0\.0 +0\.0 +0 +0 +b peer:console1$/m)
  t.regex(text, /^plan +0 +0\.0 +0\.0 +0 +0$/m)
  t.regex(text, /^event +1 +0\.0 +0\.0 +0 +0 +b$/m)
  delete state.status!.mesh
  t.regex(overview(), /^host +- +0\.0 +0\.0 +0 +0$/m)
})

test('a plan the safety controls held back says why it moves nothing', t => {
  const state = fixture()
  state.rounds = { host: 'a', current: 100, rounds: [{ round: 99, ranking: ['a', 'b'], planner: 'a', rank: 0, plannedHere: true, costBefore: 0.5, costAfter: 0.5, stopped: 'converged', verdict: 'below-min-improvement', planMs: 1, outcomes: [], moves: [] }] }
  const overview = PANES.find(p => p.key === '1')!.draw({ state, nowMs: Date.now(), width: 120, height: 40, filter: '', scroll: 0 }).map(plain).join('\n')
  t.regex(overview, /^PLAN round 99 by a \(rank 0\) {2}cost 0\.5000 -> 0\.5000 {2}0 moves {2}planned here/m)
  t.regex(overview, /^ {2}no moves: its gain is below the minimum improvement \(safety\.minImprovement\)$/m)
  state.rounds.rounds[0]!.plannedHere = false
  delete state.rounds.rounds[0]!.verdict
  t.regex(PANES.find(p => p.key === '1')!.draw({ state, nowMs: Date.now(), width: 120, height: 40, filter: '', scroll: 0 }).map(plain).join('\n'), /^ {2}no moves: nothing lowers the cost enough$/m)
})
