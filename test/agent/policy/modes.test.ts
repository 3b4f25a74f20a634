import test from 'ava'
import { buildStatus } from '../../../agent/api/status.ts'
import { buildView } from '../../../agent/api/view.ts'
import { buildRounds } from '../../../agent/api/rounds.ts'
import type { RoundView } from '../../../agent/api/types.ts'
import { createLogger } from '../../../agent/log.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { waitFor } from '../mesh/harness.ts'
import { heliotrope } from '../cli-run.ts'
import { appsSpec, type ConfigPatch, PERIOD_MS, placement, recordMigrations, restartWith, sleep, startControlled } from './mesh.ts'

test.serial('observe never plans, dry-run plans and logs but moves nothing', async t => {
  const cluster = await startControlled(t, appsSpec(2), host => ({ mode: host === 'a1' ? 'observe' : 'dry-run', planner: { maxMoves: 5, minGain: 0 } }))
  const before = await placement(cluster)
  const moves = recordMigrations(cluster.agents.values())
  const agents = [...cluster.agents.values()]
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === 3), 20_000, 'the mesh')
  const from = roundAt(Date.now(), agents[0]!.timing)
  await waitFor(() => roundAt(Date.now(), agents[0]!.timing) >= from + 6, 20 * PERIOD_MS, 'six rounds')
  const planned = [...cluster.agents.get('b1')!.rounds.values()].filter(r => (r.plan?.moves.length ?? 0) > 0)
  t.true(planned.length > 0, 'the dry-run agents planned moves')
  t.false([...cluster.agents.get('a1')!.rounds.values()].some(r => r.planned !== undefined), 'the observer never planned')
  t.deepEqual(moves, [], 'no migration started')
  t.deepEqual(await placement(cluster), before, 'every VM where it was')
  t.log(`${planned.length} rounds with planned moves, e.g. ${planned[0]!.plan!.moves.map(m => `${m.vm}:${m.from}->${m.to}`).join(' ')}; none carried out`)
})

test.serial('approve: plans wait; `heliotrope approve ROUND` on another host runs that plan on every host', async t => {
  const cluster = await startControlled(t, appsSpec(2), { mode: 'approve', planner: { maxMoves: 5, minGain: 0 } })
  const before = await placement(cluster)
  const moves = recordMigrations(cluster.agents.values())
  const waitingAt = (host: string): Array<{ round: number, moves: Array<{ vm: string, from: string, to: string }> }> =>
    (cluster.agents.get(host)!.controls.status().waiting as Array<{ round: number, moves: Array<{ vm: string, from: string, to: string }> }>)
  await waitFor(() => waitingAt('a1').some(w => w.moves.length > 0), 30_000, 'a plan waiting for approval')
  await sleep(2 * PERIOD_MS)
  t.deepEqual(moves, [], 'nothing moves while plans wait')
  t.deepEqual(await placement(cluster), before)
  // Ask on c1, whichever host planned: the approval is gossiped.
  const socket = cluster.configs.get('c1')!.controlSocket!
  // Only the newest plan waits: a round passes (2 s here) between listing and
  // approving now and then, and a plan with other moves supersedes the one
  // listed. An operator then approves the newer one; so does this test.
  let round = 0
  let plan: { round: number, moves: Array<{ vm: string, from: string, to: string }> } | undefined
  let approved: Awaited<ReturnType<typeof heliotrope>> | undefined
  const roundSeenBy = (host: string): RoundView | undefined => buildRounds(cluster.agents.get(host)!, Date.now(), 64).rounds.find(r => r.round === round)
  for (let attempt = 0; attempt < 5; attempt++) {
    const list = await heliotrope(['approve', '--socket', socket])
    t.is(list.code, 0, list.err)
    round = Number(/round (\d+) \(planner/.exec(list.out)![1])
    plan = waitingAt('c1').find(w => w.round === round)
    if (plan === undefined) continue
    t.true(plan.moves.length > 0)
    t.like(roundSeenBy('c1'), { acted: false, approval: 'awaiting' }, '/rounds: a waiting plan is not acted on')
    approved = await heliotrope(['approve', String(round), '--socket', socket])
    if (approved.code === 0 || !/superseded/.test(approved.err)) break
    t.log(`round ${round} was superseded before the approval; approving the newer one`)
  }
  if (approved === undefined || plan === undefined) { t.fail('no plan could be approved in 5 attempts'); return }
  t.is(approved.code, 0, approved.err)
  t.regex(approved.out, new RegExp(`approved round ${round}`))
  const approvedPlan = plan
  await waitFor(async () => { const now = await placement(cluster); return approvedPlan.moves.every(m => now[m.vm] === m.to) && moves.filter(m => m.phase === 'done').length >= approvedPlan.moves.length }, 30_000, 'the approved moves')
  t.deepEqual(moves.filter(m => m.phase === 'done').map(m => m.vm).sort(), approvedPlan.moves.map(m => m.vm).sort(), 'exactly the approved moves ran')
  t.true(moves.filter(m => m.phase === 'started').every(m => m.from === approvedPlan.moves.find(p => p.vm === m.vm)!.from), 'each by its source host')
  t.like(roundSeenBy('c1'), { acted: true, approval: 'approved' }, '/rounds: acted on once approved')
  t.true([...cluster.agents.values()].every(a => !(a.controls.status().waiting as Array<{ round: number }>).some(w => w.round <= round)), 'the approved plan and older ones wait nowhere')
  const again = await heliotrope(['approve', String(round), '--socket', socket])
  t.is(again.code, 1)
  t.regex(again.err, new RegExp(`no plan of round ${round} waits for approval here`))
  t.log(`round ${round} approved on c1: ${approvedPlan.moves.map(m => `${m.vm}:${m.from}->${m.to}`).join(' ')}`)
})

test.serial('drain moves every VM off the host and it takes none; undrain ends it', async t => {
  const cluster = await startControlled(t, appsSpec(2), { mode: 'auto', planner: { maxMoves: 5, minGain: 0 } })
  const agents = [...cluster.agents.values()]
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === 3), 20_000, 'the mesh')
  // Let the optimiser settle first, so what moves next is the drain.
  await waitFor(async () => agents.every(a => a.inFlight().length === 0) && Object.values(await placement(cluster)).includes('b1'), 30_000, 'a settled cluster with VMs on b1')
  const moves = recordMigrations(agents)
  // Once the drain is over, a migration that starts towards b1 would undo it.
  // (While it is being set, a move b1 admitted just before may still start:
  // b1 then moves that VM away again, which the wait below includes.)
  let drained = false
  const intoDrained: string[] = []
  for (const a of agents) a.observe(e => { if (drained && e.type === 'migration' && e.phase === 'started' && e.to === 'b1') intoDrained.push(e.vm) })
  const socket = cluster.configs.get('b1')!.controlSocket!
  const r = await heliotrope(['drain', '--wait', '--timeout', '60', '--socket', socket], 90_000)
  drained = true
  t.is(r.code, 0, r.err)
  t.regex(r.out, /draining b1: \d+ VM\(s\) to move away/)
  t.regex(r.out, /drained: no VM left here/)
  const now = await placement(cluster)
  t.false(Object.values(now).includes('b1'), `no VM on b1: ${JSON.stringify(now)}`)
  t.is(Object.keys(now).length, 6, 'no VM lost')
  // Two rounds: every agent plans again at least once with b1 drained.
  await sleep(2 * PERIOD_MS)
  t.deepEqual(intoDrained, [], 'nothing moved to the drained host')
  t.true(agents.every(a => a.view.member('b1')?.state?.draining === true), 'every agent sees b1 draining')
  const undrain = await heliotrope(['undrain', '--socket', socket])
  t.is(undrain.code, 0, undrain.err)
  await waitFor(() => agents.every(a => a.view.member('b1')?.state?.draining !== true && a.view.live(Date.now()).some(m => m.host === 'b1')), 10_000, 'b1 back as a target')
  t.log(`drained with ${moves.filter(m => m.phase === 'done').length} migrations: ${moves.filter(m => m.phase === 'done').map(m => `${m.vm}->${m.to}`).join(' ')}`)
})

test.serial('drain --wait in mode observe says nothing will move and stops waiting; the drain stays set', async t => {
  const cluster = await startControlled(t, appsSpec(2), { mode: 'observe' })
  const agents = [...cluster.agents.values()]
  await waitFor(() => agents.every(a => a.view.live(Date.now()).length === 3), 20_000, 'the mesh')
  await waitFor(async () => Object.values(await placement(cluster)).includes('b1'), 20_000, 'VMs on b1')
  const socket = cluster.configs.get('b1')!.controlSocket!
  const r = await heliotrope(['drain', '--wait', '--timeout', '600', '--socket', socket], 60_000)
  t.is(r.code, 1)
  t.regex(r.err, /mode observe: nothing migrates, so the wait would never end \(the drain stays set/)
  t.true(cluster.agents.get('b1')!.controls.draining, 'the drain itself is kept')
  // Told apart from a host shutting down: /view says draining, /status counts it apart.
  const a1 = cluster.agents.get('a1')!
  await waitFor(() => a1.view.member('b1')?.state?.draining === true, 20_000, 'a1 to hear b1 draining')
  const spec = appsSpec(2)
  t.is(buildView(a1, spec.topology, Date.now()).members.find(m => m.host === 'b1')?.status, 'draining')
  t.like(buildStatus(a1, Date.now(), Date.now()).members, { draining: 1, leaving: 0 })
})

test.serial('a pinned VM never moves, across a restart, while the rest of its app does', async t => {
  const cluster = await startControlled(t, appsSpec(2), { mode: 'auto', planner: { maxMoves: 0 } })
  const socket = cluster.configs.get('a1')!.controlSocket!
  // app1 talks most; pin its member on c1 (another host than where we ask).
  const pin = await heliotrope(['pin', 'app1-2', '--socket', socket])
  t.is(pin.code, 0, pin.err)
  t.regex(pin.out, /pinned app1-2 \(on c1, which confirms it\)/)
  const listed = await heliotrope(['pin', '--socket', socket])
  t.regex(listed.out, /pinned: app1-2/)
  // Pins are kept in each state directory: restart everyone with a planner that moves.
  await restartWith(cluster, { planner: { maxMoves: 5, minGain: 0 } })
  const agents = [...cluster.agents.values()]
  const moves = recordMigrations(agents)
  await waitFor(async () => { const p = await placement(cluster); return p['app1-0'] === 'c1' && p['app1-1'] === 'c1' }, 40_000, 'app1 to gather around its pinned member')
  t.is((await placement(cluster))['app1-2'], 'c1')
  t.false(moves.some(m => m.vm === 'app1-2'), 'the pinned VM never moved')
  t.true(agents.every(a => a.view.member('c1')?.state?.vms.find(v => v.id === 'app1-2')?.pinned === true), 'every agent sees it pinned')
  const unpin = await heliotrope(['unpin', 'app1-2', '--socket', socket])
  t.is(unpin.code, 0, unpin.err)
  await waitFor(() => agents.every(a => a.view.member('c1')?.state?.vms.find(v => v.id === 'app1-2')?.pinned === false), 10_000, 'the unpin to reach c1 and back')
})

test.serial('over many rounds: migrations at once stay under the cluster and per-host caps, plans under maxMoves, and a moved VM waits out its cooldown', async t => {
  const cooldownRounds = 3
  const cluster = await startControlled(t, appsSpec(3, { timeScale: 0.25 }, 4096), { mode: 'auto', planner: { maxMoves: 2, minGain: 0 }, safety: { maxInFlight: 2, maxInFlightPerHost: 1, cooldownRounds, minImprovement: 0, approvalWindowRounds: 10 } })
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  const moves = recordMigrations(agents)
  await waitFor(async () => { const p = await placement(cluster); return [0, 1, 2].every(app => new Set([0, 1, 2].map(k => p[`app${app}-${k}`])).size === 1) }, 90_000, 'every app gathered in one DC')
  // Turn the VM that moved last around at once: it now talks only to a VM on another host.
  const arrived = moves.filter(m => m.phase === 'done').at(-1)!
  const mover = arrived.vm
  const now = await placement(cluster)
  const partner = Object.keys(now).find(vm => now[vm] !== now[mover] && vm.split('-')[0] !== mover.split('-')[0])!
  // Pin the partner so the mover is the one that has to move.
  await agents[0]!.controls.pin(partner, true)
  const traffic = await cluster.world.traffic()
  await cluster.world.setTraffic({ ...traffic, flows: [...traffic.flows.filter(f => f.src !== mover && f.dst !== mover), { src: mover, dst: partner, bps: 500e6 }, { src: partner, dst: mover, bps: 500e6 }] })
  const target = now[partner]!
  try {
    await waitFor(async () => (await placement(cluster))[mover] === target, 20 * PERIOD_MS, `${mover} to follow ${partner}`)
  } catch (err) {
    for (const rec of [...agents[0]!.rounds.values()].slice(-3)) t.log(`round ${rec.round}: ${rec.planner ?? '-'} ${JSON.stringify(rec.plan?.moves.map(m => `${m.vm}:${m.from}->${m.to}`))} cost ${rec.plan?.initialCost}`)
    t.log(JSON.stringify(agents.map(a => a.controls.status())), JSON.stringify(await placement(cluster)))
    throw err
  }
  const back = moves.filter(m => m.vm === mover && m.phase === 'started').at(-1)!
  t.true(roundAt(back.atMs, timing) - roundAt(arrived.atMs, timing) > cooldownRounds, `${mover} waited out its cooldown`)
  // Replay the events: in flight at once, cluster-wide and per source host.
  let inFlight = 0; let most = 0; const perHost = new Map<string, number>(); let mostPerHost = 0
  for (const m of [...moves].sort((a, b) => a.atMs - b.atMs)) {
    const d = m.phase === 'started' ? 1 : -1
    inFlight += d; perHost.set(m.from, (perHost.get(m.from) ?? 0) + d)
    most = Math.max(most, inFlight); mostPerHost = Math.max(mostPerHost, perHost.get(m.from)!)
  }
  t.true(most <= 2, `at most 2 migrations at once across the cluster, saw ${most}`)
  t.true(mostPerHost <= 1, `at most 1 outbound per host at once, saw ${mostPerHost}`)
  for (const rec of agents[0]!.rounds.values()) t.true((rec.plan?.moves.length ?? 0) <= 2, `round ${rec.round}: ${rec.plan?.moves.length} moves`)
  // Cooldown: between two moves of one VM, more than cooldownRounds rounds pass.
  const byVm = new Map<string, number[]>()
  for (const m of moves) if (m.phase === 'started') byVm.set(m.vm, [...byVm.get(m.vm) ?? [], roundAt(m.atMs, timing)])
  for (const m of moves.filter(x => x.phase === 'done')) {
    const later = (byVm.get(m.vm) ?? []).filter(r => r >= roundAt(m.atMs, timing))
    for (const r of later) t.true(r - roundAt(m.atMs, timing) > cooldownRounds, `${m.vm} moved again ${r - roundAt(m.atMs, timing)} rounds after it arrived`)
  }
  t.log(`${moves.filter(m => m.phase === 'done').length} migrations; most at once ${most} (cap 2), per host ${mostPerHost} (cap 1); ${mover} arrived in round ${roundAt(arrived.atMs, timing)}, was turned towards ${partner} (pinned) at once, moved again in round ${roundAt(back.atMs, timing)}`)
})

test.serial('minimum gain: a plan that cuts the cost by less than safety.minImprovement moves nothing, round after round; a low threshold lets it run', async t => {
  const lines: string[] = []
  const log = createLogger({ level: 'info', pretty: false, sink: { write: l => { lines.push(l) } } })
  const logged = (msg: string, since: number): Array<{ component: string, verdict?: string, action?: string, moves: string[] }> =>
    lines.slice(since).map(l => JSON.parse(l) as { msg: string, component: string, verdict?: string, action?: string, moves: string[] }).filter(l => l.msg === msg)
  const safety = (minImprovement: number): ConfigPatch['safety'] => ({ maxInFlight: 5, maxInFlightPerHost: 2, cooldownRounds: 3, minImprovement, approvalWindowRounds: 10 })
  // Every link carries both apps' traffic until both are gathered (four moves),
  // so two moves cut the cost by 2/3 at best (gathering app1) and one by 1/9
  // at least: 0.9 holds every plan back, 0.05 lets any plan run.
  const planner = { maxMoves: 2, minGain: 0 }
  const cluster = await startControlled(t, appsSpec(2), { mode: 'auto', planner, safety: safety(0.9) }, log)
  const since = lines.length
  const before = await placement(cluster)
  let agents = [...cluster.agents.values()]
  const moves = recordMigrations(agents)
  const plannedHere = (): RoundView[] => agents.flatMap(a => buildRounds(a, Date.now(), 64).rounds.filter(r => r.plannedHere))
  await waitFor(() => plannedHere().length >= 5, 20 * PERIOD_MS, 'five rounds planned')
  await sleep(PERIOD_MS) // the last plan's moves, had it any, would start by now
  const held = plannedHere()
  t.true(held.every(r => r.verdict === 'below-min-improvement' && r.moves.length === 0 && r.costAfter === r.costBefore && r.costBefore! > 0),
    `every plan held back: ${JSON.stringify(held.map(r => [r.round, r.verdict, r.moves.length, r.costBefore, r.costAfter]))}`)
  t.deepEqual(moves, [], 'no migration started')
  t.deepEqual(await placement(cluster), before, 'every VM where it was')
  const heldLines = logged('planned', since)
  t.true(heldLines.length >= 5 && heldLines.every(l => l.verdict === 'below-min-improvement' && l.moves.length === 0), `the planners' log lines: ${JSON.stringify(heldLines)}`)
  t.true(logged('round', since).every(l => l.action === 'nothing to move' || l.action === 'no plan'), 'every round line says nothing moved')

  // The same mesh and plans with a low threshold: they run.
  await restartWith(cluster, { safety: safety(0.05) })
  const again = lines.length
  agents = [...cluster.agents.values()]
  const ran = recordMigrations(agents)
  await waitFor(() => ran.some(m => m.phase === 'started'), 20 * PERIOD_MS, 'a migration')
  const run = plannedHere().filter(r => r.moves.length > 0)
  t.true(run.length > 0 && run.every(r => r.verdict === 'run'), `plans with moves ran: ${JSON.stringify(run.map(r => [r.round, r.verdict, r.moves.length]))}`)
  t.true(logged('planned', again).some(l => l.verdict === 'run' && l.moves.length > 0), 'a planner logged verdict run')
  t.log(`minImprovement 0.9: ${held.length} plans held back, e.g. round ${held[0]!.round} cost ${held[0]!.costBefore!.toFixed(4)}; 0.05: round ${run[0]!.round} ran ${run[0]!.moves.map(m => `${m.vm}:${m.from}->${m.to}`).join(' ')} (cost ${run[0]!.costBefore!.toFixed(4)} -> ${run[0]!.costAfter!.toFixed(4)})`)
})
