/** agent/config-reload.ts: which changes a reload applies, which need a restart, and what the running config becomes. */
import test from 'ava'
import { parseConfig, type AgentConfig } from '../../agent/config.ts'
import { applyLive, changedFields, classifyReload, reloadResult, type ReloadContext } from '../../agent/config-reload.ts'
import { minimalConfig } from '../config-fixture.ts'

const SAME: ReloadContext = { topologyHash: { running: 'aaa', next: 'aaa' }, keys: { running: ['k1'], next: ['k1'] }, logLevelLive: true }
const config = (parts: Record<string, unknown> = {}): AgentConfig => parseConfig(minimalConfig(parts))
const fields = (cs: Array<{ field: string }>): string[] => cs.map(c => c.field)

test('changedFields: the leaves that differ, by dotted path; arrays compared whole; an absent key differs from a present one', t => {
  t.deepEqual(changedFields({ a: 1, b: { c: 2, d: [1, 2] } }, { a: 1, b: { c: 3, d: [1, 2] } }), [{ field: 'b.c', from: 2, to: 3 }])
  t.deepEqual(changedFields({ b: { d: [1, 2] } }, { b: { d: [2, 1] } }), [{ field: 'b.d', from: [1, 2], to: [2, 1] }])
  t.deepEqual(changedFields({ a: 1 }, { a: 1, e: 'x' }), [{ field: 'e', from: undefined, to: 'x' }])
  t.deepEqual(changedFields({ m: [{ host: 'h1', peerId: 'p' }] }, { m: [{ peerId: 'p', host: 'h1' }] }), [], 'key order does not matter')
})

test('an unchanged config: nothing to apply, result applied', t => {
  const c = classifyReload(config(), config(), SAME)
  t.deepEqual(c, { live: [], restart: [] })
  t.is(reloadResult(c), 'applied')
})

test('the planner and safety sections and the log level apply live; the running config takes them', t => {
  const running = config()
  const next = config({ safety: { maxInFlightPerHost: 1, cooldownRounds: 7 }, planner: { maxMoves: 9, name: 'thesis' }, logLevel: 'debug' })
  const c = classifyReload(running, next, SAME)
  t.deepEqual(fields(c.live), ['logLevel', 'planner.maxMoves', 'planner.name', 'safety.cooldownRounds', 'safety.maxInFlightPerHost'])
  t.deepEqual(c.restart, [])
  t.is(reloadResult(c), 'applied')
  const after = applyLive(running, next, c)
  t.deepEqual(after, next, 'every change was live, so the running config is the new one')
  t.is(running.safety.maxInFlightPerHost, 2, 'the old config object is not changed')
})

test('fields the agent builds into something at start need a restart, each with why; the live ones beside them still apply', t => {
  const running = config()
  const next = config({
    mode: 'auto',
    capacity: { memoryMiB: 2048, vcpus: 2 },
    members: [{ host: 'h1', peerId: 'p1' }, { host: 'h2', peerId: 'p2' }],
    listen: ['/ip6/::1/tcp/4002'],
    stateDir: '/var/lib/other',
    hypervisor: { kind: 'libvirt' },
    roundPeriodMs: 10_000,
    safety: { maxInFlight: 3 }
  })
  const c = classifyReload(running, next, SAME)
  t.deepEqual(fields(c.live), ['safety.maxInFlight'])
  t.deepEqual(fields(c.restart).sort(), ['capacity.memoryMiB', 'controlSocket', 'hypervisor.kind', 'listen', 'members', 'mode', 'roundPeriodMs', 'stateDir'].sort())
  t.true(c.restart.every(r => r.why.length > 0))
  t.is(reloadResult(c), 'restart-needed')
  const after = applyLive(running, next, c)
  t.is(after.safety.maxInFlight, 3)
  t.is(after.mode, running.mode, 'a restart field keeps its running value')
  t.deepEqual(after.members, running.members)
  t.is(after.stateDir, running.stateDir)
})

test('topologyFile: another path to the same bytes applies; changed bytes are staged (not a restart), under the same path or another', t => {
  const running = config()
  const moved = config({ topologyFile: '/etc/heliotrope/topology-v2.json' })
  const same = classifyReload(running, moved, SAME)
  t.deepEqual(fields(same.live), ['topologyFile'])
  t.is(same.staged, undefined)
  t.is(applyLive(running, moved, same).topologyFile, '/etc/heliotrope/topology-v2.json')

  const changed: ReloadContext = { ...SAME, topologyHash: { running: 'aaa', next: 'bbb' } }
  const edited = classifyReload(running, config(), changed)
  t.deepEqual(edited.restart, [])
  t.deepEqual(edited.staged, { field: 'topologyFile', from: 'sha256 aaa', to: 'sha256 bbb' })
  t.is(reloadResult(edited), 'staged')
  const both = classifyReload(running, moved, changed)
  t.deepEqual(fields(both.live), [])
  t.deepEqual(fields(both.restart), [], 'the new path is part of the staged topology')
  t.like(both.staged, { from: 'sha256 aaa', to: 'sha256 bbb' })
  t.is(applyLive(running, moved, both).topologyFile, running.topologyFile, 'the running config names the running file until the switch')
  const withRestart = classifyReload(running, config({ topologyFile: '/etc/heliotrope/topology-v2.json', roundPeriodMs: 3000 }), changed)
  t.is(reloadResult(withRestart), 'restart-needed', 'a restart field wins the result; the topology is staged beside it')
  t.not(withRestart.staged, undefined)
  // With dissemination "tiered" the agent cannot stage: a restart, as before staging existed.
  const tiered = classifyReload(running, moved, { ...changed, topologyStaging: false })
  t.is(tiered.staged, undefined)
  t.deepEqual(fields(tiered.restart), ['topologyFile'])
  t.like(tiered.restart[0], { from: 'sha256 aaa', to: 'sha256 bbb' })
  t.regex(tiered.restart[0]!.why, /tiered/)
  t.is(reloadResult(tiered), 'restart-needed')
})

test('logLevel needs a restart when the agent has no settable level; removing it goes back to the default', t => {
  const c = classifyReload(config(), config({ logLevel: 'warn' }), { ...SAME, logLevelLive: false })
  t.deepEqual(fields(c.restart), ['logLevel'])
  const running = config({ logLevel: 'debug' })
  const removed = classifyReload(running, config(), SAME)
  t.deepEqual(fields(removed.live), ['logLevel'])
  t.false('logLevel' in applyLive(running, config(), removed))
})

test('pskFile: cluster keys that share a key with the running ones apply live (a rotation step, under the same path or another); keys sharing none need a restart, with the procedure', t => {
  const running = config()
  const step = (runningKeys: string[], nextKeys: string[], next = config()): ReturnType<typeof classifyReload> =>
    classifyReload(running, next, { ...SAME, keys: { running: runningKeys, next: nextKeys } })
  // Add the new key second, put it first, drop the old one: each step shares a key.
  for (const [from, to] of [[['old'], ['old', 'new']], [['old', 'new'], ['new', 'old']], [['new', 'old'], ['new']]]) {
    const c = step(from!, to!)
    t.deepEqual(fields(c.live), ['pskFile'], `${from!.join(',')} -> ${to!.join(',')}`)
    t.deepEqual(c.restart, [])
  }
  const moved = step(['old'], ['old', 'new'], config({ pskFile: '/etc/heliotrope/psk-2' }))
  t.deepEqual(fields(moved.live), ['pskFile'])
  t.is(applyLive(running, config({ pskFile: '/etc/heliotrope/psk-2' }), moved).pskFile, '/etc/heliotrope/psk-2')
  const samePathSameKeys = step(['old'], ['old'])
  t.deepEqual(samePathSameKeys, { live: [], restart: [] })

  const jump = step(['old'], ['new'])
  t.deepEqual(fields(jump.restart), ['pskFile'])
  t.regex(jump.restart[0]!.why, /share none.*add the new key after the old one/)
  t.is(reloadResult(jump), 'restart-needed')
})
