import test from 'ava'
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../../agent/config.ts'
import { Controls } from '../../../agent/policy/controls.ts'
import { createLogger } from '../../../agent/log.ts'
import { controlRequest } from '../../../agent/control-socket/client.ts'
import { defaultTiming, roundAt } from '../../../lib/rounds.ts'
import { ReplicatedView } from '../../../lib/view.ts'
import type { Flow, Snapshot } from '../../../lib/model.ts'
import type { Envelope, EventMessage, PlanMessage, PlannedMove } from '../../../lib/wire/messages.ts'
import { mesh, snapshot } from '../../lib/fixtures.ts'

const PLAN: PlanMessage = { rank: 0, planner: 'h2', inputs: {}, initialCost: 0.5, finalCost: 0.25, moves: [{ vm: 'v1', from: 'h1', to: 'h2', cost: 0.25 }] }

/**
 * The cluster as the agent's view shows it (what approvals are checked
 * against): v1 and v9 on h1 in DC A, v3 on h2 in DC B; v1 talks to v3 at
 * 100 Mbit/s each way, so PLAN (v1 to h2) lowers the cost, its memory copy
 * (1 GiB) paid back within the agents' default hour.
 */
function world (over: { vms?: Array<{ id: string, host: string, pinned?: boolean }>, flows?: Flow[] } = {}): Snapshot {
  const vms = over.vms ?? [{ id: 'v1', host: 'h1' }, { id: 'v9', host: 'h1' }, { id: 'v3', host: 'h2' }]
  return snapshot({
    dcs: ['A', 'B'],
    links: mesh(['A', 'B'], 1e9),
    hosts: [{ id: 'h1', dc: 'A', memoryMiB: 4096, vcpus: 4 }, { id: 'h2', dc: 'B', memoryMiB: 4096, vcpus: 4 }],
    vms: vms.map(v => ({ memoryMiB: 1024, vcpus: 1, ...v })),
    flows: over.flows ?? [{ src: 'v1', dst: 'v3', bps: 1e8 }, { src: 'v3', dst: 'v1', bps: 1e8 }, { src: 'v9', dst: 'v3', bps: 1e3 }]
  })
}

async function make (t: { teardown (fn: () => Promise<void>): void }, mode: string, stateDir?: string): Promise<{ controls: Controls, lines: Array<Record<string, unknown>>, executed: Array<{ round: number, moves: PlannedMove[] }>, events: EventMessage[], dir: string, cluster: { now: Snapshot } }> {
  const dir = stateDir ?? await mkdtemp(join(tmpdir(), 'htctl-'))
  if (stateDir === undefined) t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const config = parseConfig({
    cluster: 'c', host: 'h1', dc: 'A', stateDir: dir, pskFile: '/p', members: [{ host: 'h1', peerId: 'P1' }, { host: 'h2', peerId: 'P2' }], topologyFile: '/t', address: 'fd00::1',
    capacity: { memoryMiB: 4096, vcpus: 4 }, collector: { kind: 'file', path: '/f' }, hypervisor: { kind: 'xen' }, mode, roundPeriodMs: 1000
  })
  const lines: Array<Record<string, unknown>> = []
  const executed: Array<{ round: number, moves: PlannedMove[] }> = []
  const events: EventMessage[] = []
  const log = createLogger({ pretty: false, sink: { write: (l: string) => { lines.push(JSON.parse(l) as Record<string, unknown>) } } })
  // Sequence numbers from the clock, as the agent's: they keep rising across restarts.
  let seq = Date.now() * 1000
  const cluster = { now: world() }
  const controls: Controls = new Controls({
    host: 'h1',
    config,
    view: new ReplicatedView({ members: config.members, downAfterMs: 3000 }),
    timing: defaultTiming(1000),
    log,
    now: Date.now,
    // As the agent does: our own events take effect here at once.
    publishEvent: async (body) => { events.push(body); controls.onEvent({ v: 1, topic: 'event', host: 'h1', round: roundAt(Date.now(), defaultTiming(1000)), seq: seq++, body } as Envelope<'event'>) },
    publishState: async () => undefined,
    execute: (round, moves) => { executed.push({ round, moves }) },
    snapshot: () => cluster.now
  })
  await controls.start()
  t.teardown(async () => controls.stop())
  return { controls, lines, executed, events, dir, cluster }
}

const roundLines = (lines: Array<Record<string, unknown>>): Array<Record<string, unknown>> => lines.filter(l => l.msg === 'round')

test('each mode decides what a final plan does, and every round gets one summary line with the planner, costs and moves', async t => {
  const expect = { auto: [true, 'migrating'], 'dry-run': [false, 'dry-run, not migrating'], observe: [false, 'observing, not migrating'], approve: [false, 'awaiting approval: heliotrope approve 7'] } as const
  for (const [mode, [runs, action]] of Object.entries(expect)) {
    const { controls, lines } = await make(t, mode)
    t.is(controls.planFinal({ round: 7, planner: 'h2', rank: 0, plan: PLAN }), runs, mode)
    controls.planFinal({ round: 7, planner: 'h2', rank: 0, plan: PLAN })
    controls.roundStarted(8)
    controls.roundStarted(9)
    const rounds = roundLines(lines)
    t.like(rounds[0], { round: 7, mode, planner: 'h2', rank: 0, costBefore: 0.5, costAfter: 0.25, moves: ['v1:h1->h2'], action })
    t.deepEqual(rounds.map(r => r.round), [7, 8], `${mode}: one line per round, a round without a plan says so`)
    t.is(rounds[1]!.action, 'no plan')
    t.is(controls.plans, mode !== 'observe')
    t.is(controls.refusesIncoming(), mode === 'observe' || mode === 'dry-run')
  }
})

test('approve: a held plan runs once approved over the control socket, and the approval is gossiped', async t => {
  const { controls, executed, events, lines } = await make(t, 'approve')
  const round = roundAt(Date.now(), defaultTiming(1000))
  controls.planFinal({ round, planner: 'h2', rank: 0, plan: PLAN })
  controls.planFinal({ round: round - 1, planner: 'h2', rank: 0, plan: { ...PLAN, moves: [{ vm: 'v9', from: 'h1', to: 'h2', cost: 0.3 }] } })
  t.deepEqual(executed, [])
  const socket = join((controls as unknown as { ctx: { config: { stateDir: string } } }).ctx.config.stateDir, 'control.sock')
  const listed = await controlRequest(socket, { op: 'approve' })
  t.true(listed.ok && /round \d+ \(planner h2\)/.test(listed.message))
  const reply = await controlRequest(socket, { op: 'approve', round })
  t.true(reply.ok, JSON.stringify(reply))
  t.deepEqual(events, [{ kind: 'approve', round }])
  t.deepEqual(executed, [{ round, moves: PLAN.moves }])
  t.true(controls.approvedMove(round, 'v1', 'h1', 'h2'), 'the target side finds the approved move')
  t.deepEqual(controls.status().waiting, [], 'the older waiting plan is dropped with it')
  t.like(lines.find(l => l.msg === 'plan approved'), { round, by: 'h1' })
  const again = await controlRequest(socket, { op: 'approve', round })
  t.false(again.ok)
})

test('approve: a plan approved after the cluster changed is refused with the reason, only the newest plan waits, and the newest valid one runs', async t => {
  const { controls, executed, events, lines, cluster } = await make(t, 'approve')
  const round = roundAt(Date.now(), defaultTiming(1000))
  const socket = join((controls as unknown as { ctx: { config: { stateDir: string } } }).ctx.config.stateDir, 'control.sock')
  const approve = async (r: number): Promise<{ ok: boolean, message?: string, error?: string }> => await controlRequest(socket, { op: 'approve', round: r }) as { ok: boolean, message?: string, error?: string }

  // The VM moved since the plan was made (someone migrated it by hand).
  controls.planFinal({ round: round - 3, planner: 'h2', rank: 0, plan: PLAN })
  cluster.now = world({ vms: [{ id: 'v1', host: 'h2' }, { id: 'v9', host: 'h1' }, { id: 'v3', host: 'h2' }] })
  const moved = await approve(round - 3)
  t.false(moved.ok)
  t.regex(moved.error ?? '', /is stale and will not run: v1 is on h2 now; the plan moves it from h1/)

  // The traffic it was to cut is gone.
  cluster.now = world({ flows: [{ src: 'v9', dst: 'v3', bps: 1e3 }] })
  controls.planFinal({ round: round - 2, planner: 'h2', rank: 0, plan: PLAN })
  const gone = await approve(round - 2)
  t.false(gone.ok)
  t.regex(gone.error ?? '', /it no longer lowers the cost/)

  // A pin since.
  cluster.now = world({ vms: [{ id: 'v1', host: 'h1', pinned: true }, { id: 'v9', host: 'h1' }, { id: 'v3', host: 'h2' }] })
  controls.planFinal({ round: round - 1, planner: 'h2', rank: 0, plan: PLAN })
  t.regex((await approve(round - 1)).error ?? '', /v1 is pinned now/)
  t.deepEqual(executed, [], 'no stale plan ran')
  t.deepEqual(events, [], 'and no approval was gossiped')

  // Two plans: only the newer waits; the older is refused as superseded. The newer, still valid, runs.
  cluster.now = world()
  controls.planFinal({ round, planner: 'h2', rank: 0, plan: { ...PLAN, moves: [{ vm: 'v9', from: 'h1', to: 'h2', cost: 0.4 }] } })
  controls.planFinal({ round: round + 1, planner: 'h2', rank: 0, plan: PLAN })
  t.deepEqual((controls.status().waiting as Array<{ round: number }>).map(w => w.round), [round + 1])
  const listed = await controlRequest(socket, { op: 'approve' })
  t.regex((listed as { message?: string }).message ?? '', new RegExp(`round ${round + 1} \\(planner h2\\): planned at cost 0.5000 -> 0.2500; now [0-9.e-]+ -> [0-9.e-]+`))
  const older = await approve(round)
  t.false(older.ok)
  t.regex(older.error ?? '', new RegExp(`no plan of round ${round} waits for approval here \\(superseded by round ${round + 1}`))
  const newest = await approve(round + 1)
  t.true(newest.ok, JSON.stringify(newest))
  t.regex(newest.message ?? '', /cost now [0-9.e-]+ -> [0-9.e-]+/)
  t.deepEqual(executed, [{ round: round + 1, moves: PLAN.moves }])
  t.is(lines.filter(l => l.msg === 'approval refused: the plan no longer fits the cluster').length, 3)
})

test('approve: a plan made again with the same moves joins the waiting one: either round approves it, and the target finds the move by that round', async t => {
  const { controls, executed } = await make(t, 'approve')
  const round = roundAt(Date.now(), defaultTiming(1000))
  controls.planFinal({ round: round - 1, planner: 'h2', rank: 0, plan: PLAN })
  controls.planFinal({ round, planner: 'h1', rank: 0, plan: { ...PLAN, planner: 'h1' } })
  t.deepEqual((controls.status().waiting as Array<{ round: number }>).map(w => w.round), [round - 1], 'one plan waits')
  const reply = await controls.approve(round - 1)
  t.true(reply.ok, JSON.stringify(reply))
  t.deepEqual(executed, [{ round: round - 1, moves: PLAN.moves }])
  t.is(controls.approvalState(round)?.state, 'approved')
  const second = await make(t, 'approve')
  second.controls.planFinal({ round: round - 1, planner: 'h2', rank: 0, plan: PLAN })
  second.controls.planFinal({ round, planner: 'h1', rank: 0, plan: { ...PLAN, planner: 'h1' } })
  t.true((await second.controls.approve(round)).ok, 'the later round approves it too')
  t.deepEqual(second.executed, [{ round, moves: PLAN.moves }])
  t.true(second.controls.approvedMove(round, 'v1', 'h1', 'h2'))
})

test('approve: an approval gossiped from another host is checked here too: a VM no longer where the plan assumed stops it', async t => {
  const { controls, executed, lines, cluster } = await make(t, 'approve')
  const round = roundAt(Date.now(), defaultTiming(1000))
  controls.planFinal({ round, planner: 'h2', rank: 0, plan: PLAN })
  cluster.now = world({ vms: [{ id: 'v1', host: 'h2' }, { id: 'v9', host: 'h1' }, { id: 'v3', host: 'h2' }] })
  controls.onEvent({ v: 1, topic: 'event', host: 'h2', round, seq: 1, body: { kind: 'approve', round } } as Envelope<'event'>)
  t.deepEqual(executed, [])
  t.like(lines.find(l => l.msg === 'approval refused: the plan no longer fits the cluster'), { round, by: 'h2' })
})

test('pins and drain are kept in the state directory across a restart', async t => {
  const first = await make(t, 'auto')
  t.true((await first.controls.pin('v1', true)).ok)
  t.true((await first.controls.drain(true)).ok)
  t.true(first.controls.isPinned('v1'))
  await first.controls.stop()
  const stored = JSON.parse(await readFile(join(first.dir, 'controls.json'), 'utf8')) as { draining: boolean, pins: Record<string, { pinned: boolean }> }
  t.like(stored, { draining: true, pins: { v1: { pinned: true } } })
  const second = await make(t, 'auto', first.dir)
  t.true(second.controls.isPinned('v1'))
  t.true(second.controls.draining)
  t.true(second.controls.refusesIncoming(), 'a drained host takes no VM')
  await second.controls.pin('v1', false)
  t.false(second.controls.isPinned('v1'))
})

test('stop waits for the last pin to be written: the file holds it, and nothing is written after', async t => {
  const { controls, dir } = await make(t, 'auto')
  // No host reports v1, so pin() returns as soon as the event is applied; the write follows it.
  t.true((await controls.pin('v1', true)).ok)
  t.true((await controls.pin('v1', false)).ok)
  await controls.stop()
  const stored = JSON.parse(await readFile(join(dir, 'controls.json'), 'utf8')) as { pins: Record<string, { pinned: boolean }> }
  t.false(stored.pins.v1?.pinned, 'the unpin is on disk when stop resolves')
  t.deepEqual((await readdir(dir)).filter(f => f.endsWith('.tmp')), [], 'no write left half done')
})

test('a second agent on the same control socket is refused', async t => {
  const first = await make(t, 'auto')
  await t.throwsAsync(make(t, 'auto', first.dir), { message: /another agent answers on .*control\.sock/ })
})

test('approve: a rule set cluster-wide after a plan was made stops it, as a file\'s rule would; unset, the plan runs', async t => {
  const { controls, executed } = await make(t, 'approve')
  const round = roundAt(Date.now(), defaultTiming(1000))
  controls.planFinal({ round, planner: 'h2', rank: 0, plan: PLAN })
  // v1 must avoid DC B, where PLAN moves it: the record arrives as the gossip brings it.
  t.true(await controls.settings.receive({ version: 1, setBy: 'h2', at: 1, values: { rules: [{ kind: 'avoid', vm: 'v1', dcs: ['B'] }] } }, 'h2'))
  t.deepEqual(controls.planner.rules, [{ kind: 'avoid', vm: 'v1', dcs: ['B'] }])
  const refused = await controls.approve(round)
  t.false(refused.ok)
  t.regex(refused.ok ? '' : refused.error, /moving v1 to B breaks a placement rule now/)
  t.deepEqual(executed, [])
  // The same plan held again, then the rule unset: it runs.
  const next = round + 1
  controls.planFinal({ round: next, planner: 'h2', rank: 0, plan: PLAN })
  t.true(await controls.settings.receive({ version: 2, setBy: 'h2', at: 2, values: {} }, 'h2'))
  t.deepEqual(controls.planner.rules, [], 'back to the file\'s (none)')
  const ok = await controls.approve(next)
  t.true(ok.ok, JSON.stringify(ok))
  t.deepEqual(executed, [{ round: next, moves: PLAN.moves }])
})
