import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig } from '../../agent/config.ts'
import { createLogger } from '../../agent/log.ts'
import { Controls } from '../../agent/policy/controls.ts'
import { defaultTiming } from '../../lib/rounds.ts'
import { generate } from '../../lib/scenario.ts'
import { ReplicatedView } from '../../lib/view.ts'
import { minimalConfig } from '../config-fixture.ts'
import type { PlacementRule } from '../../lib/model.ts'
import { brokenAlong, keptRules, startDcs } from '../../lab/model/kept-rules.ts'

const BIN = new URL('../../agent/bin/heliotrope.js', import.meta.url).pathname

function cli (args: string[]): Promise<{ code: number | null, out: string, err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''; let err = ''
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('error', reject)
    child.on('exit', code => resolve({ code, out, err }))
  })
}

/** The agent's own planning path: Controls.plan, as agent/agent.ts calls it each round (nothing on the move, nothing cooling). */
function agentPlan (config: ReturnType<typeof parseConfig>, snapshot: ReturnType<typeof generate>): { moves: Array<{ vm: string, from: string, to: string }>, finalCost: number } {
  const { plan } = agentControls(config, snapshot).plan(snapshot, 1)
  return { moves: plan.moves.map(m => ({ vm: m.vm, from: m.from, to: m.to })), finalCost: plan.finalCost }
}

function agentControls (config: ReturnType<typeof parseConfig>, snapshot: ReturnType<typeof generate>): Controls {
  return new Controls({
    host: config.host,
    config,
    view: new ReplicatedView({ members: config.members, downAfterMs: 3000 }),
    // The agent runs the rounds its config names (agent/agent.ts): they decide whether rounds are played forward.
    timing: defaultTiming(config.roundPeriodMs),
    log: createLogger({ pretty: false, sink: { write: () => undefined } }),
    now: () => 0,
    publishEvent: async () => undefined,
    publishState: async () => undefined,
    execute: () => undefined,
    snapshot: () => snapshot
  })
}

test('heliotrope plan --config plans exactly what the agent with that config plans (default and non-default planner sections)', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htplan-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const cases = [
    { kind: 'thesis' as const, vms: 60, dcs: 3, seed: 3, planner: {} },
    { kind: 'clustered' as const, vms: 120, dcs: 4, seed: 5, planner: { maxMoves: 12, maxMovesPerHost: 3, minGain: 0 }, safety: { maxInFlight: 12 } },
    { kind: 'thesis' as const, vms: 60, dcs: 3, seed: 4, planner: { name: 'thesis', maxMoves: 8 }, safety: { maxInFlight: 8, maxInFlightPerHost: 4 } },
    // Small enough that the default 30 s rounds play each candidate round forward (lib/planners/rollout.ts).
    { kind: 'clustered' as const, vms: 34, dcs: 4, seed: 20, planner: {} }
  ]
  for (const [i, c] of cases.entries()) {
    const snapshot = generate(c.kind, { vms: c.vms, dcs: c.dcs, seed: c.seed })
    const raw = minimalConfig({ planner: c.planner, ...(c.safety === undefined ? {} : { safety: c.safety }) })
    const snapFile = join(dir, `snap${i}.json`); const configFile = join(dir, `config${i}.json`)
    await writeFile(snapFile, JSON.stringify(snapshot))
    await writeFile(configFile, JSON.stringify(raw))
    const r = await cli(['plan', snapFile, '--config', configFile, '--json'])
    t.is(r.code, 0, r.err)
    const fromCli = JSON.parse(r.out) as { moves: Array<{ vm: string, from: string, to: string }>, finalCost: number }
    const fromAgent = agentPlan(parseConfig(raw), snapshot)
    t.true(fromAgent.moves.length > 0, `case ${i}: the agent moves something`)
    t.deepEqual(fromCli.moves.map(m => ({ vm: m.vm, from: m.from, to: m.to })), fromAgent.moves, `case ${i}`)
    t.is(fromCli.finalCost, fromAgent.finalCost)
  }
})

test('heliotrope plan: --config cannot be mixed with planner options, and a bad config is refused with its field named', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htplan-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const snapFile = join(dir, 'snap.json'); const good = join(dir, 'good.json'); const bad = join(dir, 'bad.json')
  await writeFile(snapFile, JSON.stringify(generate('thesis', { vms: 20, dcs: 2, seed: 1 })))
  await writeFile(good, JSON.stringify(minimalConfig({})))
  await writeFile(bad, JSON.stringify(minimalConfig({ planner: { maxMoves: -1 } })))
  const mixed = await cli(['plan', snapFile, '--config', good, '--max-moves', '3'])
  t.is(mixed.code, 2)
  t.regex(mixed.err, /--config takes the planner from the agent's config; drop --max-moves/)
  const refused = await cli(['plan', snapFile, '--config', bad])
  t.not(refused.code, 0)
  t.regex(refused.err, /planner\.maxMoves/)
})

test('heliotrope plan --config applies the config\'s placement rules as the agent does: same plan, no rule broken, a broken one mended first, an unknown name left out and said', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htplan-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const snapshot = generate('clustered', { vms: 120, dcs: 4, seed: 5 })
  const dcOf = startDcs(snapshot)
  const vm = snapshot.vms[0]!.id
  // Rules the start keeps, one it breaks (vm0 in a DC it must avoid), and one naming a group that is not there.
  const rules = [...keptRules(snapshot, 5), { kind: 'avoid', vm, dcs: [dcOf.get(vm)!] }, { kind: 'together', group: 'nosuch' }]
  const raw = minimalConfig({ planner: { maxMoves: 12, maxMovesPerHost: 3, minGain: 0, rules }, safety: { maxInFlight: 12 } })
  const snapFile = join(dir, 'snap.json'); const configFile = join(dir, 'config.json')
  await writeFile(snapFile, JSON.stringify(snapshot))
  await writeFile(configFile, JSON.stringify(raw))
  const r = await cli(['plan', snapFile, '--config', configFile, '--json'])
  t.is(r.code, 0, r.err)
  t.regex(r.err, /rule left out: rules\[\d+\]\.group: expected a group some VM in vms\[\] belongs to, found "nosuch"/)
  const fromCli = JSON.parse(r.out) as { moves: Array<{ vm: string, from: string, to: string }>, finalCost: number, mends?: number }
  const fromAgent = agentPlan(parseConfig(raw), snapshot)
  t.deepEqual(fromCli.moves.map(m => ({ vm: m.vm, from: m.from, to: m.to })), fromAgent.moves)
  t.is(fromCli.finalCost, fromAgent.finalCost)
  t.is(fromCli.moves[0]?.vm, vm, 'the broken rule is mended first')
  t.is(fromCli.mends, 1)
  const text = await cli(['plan', snapFile, '--config', configFile])
  t.regex(text.out.split('\n')[1] ?? '', new RegExp(`^\\s+1  ${vm} .* mends a placement rule$`))
  const hostDc = new Map(snapshot.hosts.map(h => [h.id, h.dc]))
  const ruled = { ...snapshot, rules: rules.slice(0, -1) as PlacementRule[] }
  const along = brokenAlong(ruled, { planner: 'cli', initialCost: 0, finalCost: 0, stopped: 'converged', moves: fromCli.moves.map(m => ({ ...m, fromDc: hostDc.get(m.from)!, toDc: hostDc.get(m.to)!, cost: 0, gain: 0 })) })
  t.true(along[0]!.length === 1 && along.slice(1).every(b => b.length === 0), JSON.stringify(along))
})

test('rules set cluster-wide: the agent plans with them what heliotrope plan --config plans with the same rules in the file', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htplan-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const snapshot = generate('clustered', { vms: 120, dcs: 4, seed: 5 })
  const dcOf = startDcs(snapshot)
  const vm = snapshot.vms[0]!.id
  const rules = [...keptRules(snapshot, 5), { kind: 'avoid', vm, dcs: [dcOf.get(vm)!] }]
  const planner = { maxMoves: 12, maxMovesPerHost: 3, minGain: 0 }
  // The agent's file has no rules: they come in a cluster settings record, as the gossip brings it.
  const bare = parseConfig(minimalConfig({ planner, safety: { maxInFlight: 12 }, stateDir: dir }))
  const controls = agentControls(bare, snapshot)
  t.true(await controls.settings.receive({ version: 1, setBy: 'h2', at: 1, values: { rules: rules as PlacementRule[] } }, 'h2'))
  const { plan } = controls.plan(snapshot, 1)
  const raw = minimalConfig({ planner: { ...planner, rules }, safety: { maxInFlight: 12 } })
  const snapFile = join(dir, 'snap.json'); const configFile = join(dir, 'config.json')
  await writeFile(snapFile, JSON.stringify(snapshot))
  await writeFile(configFile, JSON.stringify(raw))
  const r = await cli(['plan', snapFile, '--config', configFile, '--json'])
  t.is(r.code, 0, r.err)
  const fromCli = JSON.parse(r.out) as { moves: Array<{ vm: string, from: string, to: string }>, finalCost: number }
  t.deepEqual(plan.moves.map(m => ({ vm: m.vm, from: m.from, to: m.to })), fromCli.moves.map(m => ({ vm: m.vm, from: m.from, to: m.to })))
  t.is(plan.finalCost, fromCli.finalCost)
  t.is(plan.moves[0]?.vm, vm, 'the rule broken by the cluster\'s new set is mended first')
  await controls.settings.idle()
})
