/**
 * The lab's files and parsers without root: topologies and scenarios
 * (every shipped one loads; mistakes are reported precisely), the router's
 * scripts, tc's counters, the agents' log lines.
 */
import { readdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { ValidationError } from '../../lib/errors.ts'
import { parseTcClasses } from '../../lab/net/counters.ts'
import { classId, htbBatch, routerRulesScript } from '../../lab/net/shaping.ts'
import { parseLabTopology } from '../../lab/net/topology.ts'
import { parseAgentLine } from '../../lab/run/log-events.ts'
import { loadScenario, parseScenario } from '../../lab/run/scenario.ts'

const dir = (name: string): string => fileURLToPath(new URL(`../../lab/${name}/`, import.meta.url))

function issues (f: () => unknown): string[] {
  try { f() } catch (err) { if (err instanceof ValidationError) return err.issues.map(i => `${i.path}: ${i.expected}`); throw err }
  return []
}

const twoDcs = (links: unknown[]): unknown => ({
  dcs: [{ id: 'dc0', hosts: [{ id: 'a', memoryMiB: 1024, vcpus: 2 }] }, { id: 'dc1', hosts: [{ id: 'b', memoryMiB: 1024, vcpus: 2 }] }],
  links
})

test('every shipped scenario and its topology load', async t => {
  for (const f of (await readdir(dir('scenarios'))).filter(f => f.endsWith('.json'))) {
    const s = await loadScenario(dir('scenarios') + f)
    t.true(s.vms.length > 0 && s.phases.length > 0, f)
    t.log(`${f}: ${s.topology.dcs.length} DCs, ${s.vms.length} VMs, ${s.phases.length} phases, ${s.events.length} events, ${s.durationSec} s`)
  }
})

test('a topology needs a capacity for every direction, once', t => {
  t.deepEqual(issues(() => parseLabTopology(twoDcs([{ from: 'dc0', to: 'dc1', capacityBps: 1e6 }]))), ['links: a capacity for every ordered pair of DCs; missing dc1->dc0'])
  t.deepEqual(issues(() => parseLabTopology(twoDcs([{ between: ['dc0', 'dc1'], capacityBps: 1e6 }, { from: 'dc1', to: 'dc0', capacityBps: 2e6 }]))), ['links[1]: no second capacity for dc1->dc0 (links[0] has one)'])
  const ok = parseLabTopology(twoDcs([{ between: ['dc0', 'dc1'], capacityBps: 1e6 }]))
  t.deepEqual(ok.links.map(l => `${l.from}->${l.to}`), ['dc0->dc1', 'dc1->dc0'])
})

test('a topology keeps to unique local addresses that do not overlap', t => {
  const base = twoDcs([{ between: ['dc0', 'dc1'], capacityBps: 1e6 }]) as Record<string, unknown>
  t.deepEqual(issues(() => parseLabTopology({ ...base, vmPrefix: 'fd00:10:1::/64', externals: [{ id: 'x', prefix: '2001:db8::/48', dc: 'dc0' }, { id: 'y', prefix: 'fd00:e1::/48', dc: 'dc1' }, { id: 'z', prefix: 'fd00:e1:0:1::/64', dc: 'dc1' }] })), [
    'vmPrefix: a prefix that does not overlap the lab\'s own infrastructure prefix',
    'externals[0].prefix: a unique local prefix inside fd00::/8 (the lab never routes anything else)',
    'externals[2].prefix: a prefix that does not overlap externals[1].prefix'
  ])
})

test('a scenario must fit its hosts and name endpoints that exist', t => {
  const topo = parseLabTopology(twoDcs([{ between: ['dc0', 'dc1'], capacityBps: 1e6 }]))
  const found = issues(() => parseScenario({
    name: 's', topology: 'x', durationSec: 30,
    vms: [{ id: 'v1', host: 'a', memoryMiB: 800, vcpus: 1 }, { id: 'v2', host: 'a', memoryMiB: 800, vcpus: 1 }],
    phases: [{ atSec: 0, flows: [{ src: 'v1', dst: 'nobody', bps: 1 }] }, { atSec: 40, flows: [] }],
    events: [{ atSec: 5, action: 'cut-dc', dc: 'dc7' }]
  }, topo))
  t.deepEqual(found, [
    'vms: VMs that fit their host; a has 1024 MiB/2 vCPUs',
    'phases[0].flows[0].dst: a VM id or an external id of the topology',
    'phases[1].atSec: a time before the end (30)',
    'events[0].dc: a DC of the topology'
  ])
})

test('the router classifies each WAN direction by where it enters, into the htb class of its source DC', t => {
  const links = [{ from: 0, to: 1, capacityBps: 2e6 }, { from: 1, to: 0, capacityBps: 1e6 }]
  const rules = routerRulesScript(['dc0', 'dc1'], links)
  t.true(rules.includes('iifname "dc0" oifname "dc1" counter name "wan_0_1" meta priority set 1:10'))
  t.true(rules.includes('iifname "dc1" oifname "dc0" counter name "wan_1_0" meta priority set 1:11'))
  t.true(rules.indexOf('ip6 saddr fd00:10::/32 return') < rules.indexOf('meta priority'), 'the management network is never shaped')
  const tc = htbBatch('dc1', 1, links)
  t.true(tc.some(l => l.includes(`classid ${classId(0)} htb rate 2000000bit ceil 2000000bit`)))
  t.false(tc.some(l => l.includes(`classid ${classId(1)}`)), 'no class for traffic inside the DC')
})

test('tc class counters are read from its text output', t => {
  const text = `class htb 1:10 root leaf 10: prio 0 rate 2Mbit ceil 2Mbit burst 1600b cburst 1600b 
 Sent 2579616 bytes 2067 pkt (dropped 1013, overlimits 2066 requeues 0) 
 backlog 0b 0p requeues 0

class htb 1:1 root prio 0 rate 10Gbit ceil 10Gbit burst 0b cburst 0b 
 Sent 150 bytes 1 pkt (dropped 0, overlimits 0 requeues 0) 
`
  t.deepEqual([...parseTcClasses(text)], [['1:10', { bytes: 2579616, packets: 2067, dropped: 1013 }], ['1:1', { bytes: 150, packets: 1, dropped: 0 }]])
})

test('the agents\' log lines become plans, acceptances and migrations', t => {
  const ts = '2026-01-01T00:00:00.000Z'
  t.like(parseAgentLine('h1', JSON.stringify({ ts, level: 'info', msg: 'planned', round: 7, rank: 1, planner: 'lookahead', costBefore: 0.5, costAfter: 0.2, moves: ['a:h1->h2'] })), { kind: 'planned', host: 'h1', round: 7, rank: 1, moves: ['a:h1->h2'] })
  t.like(parseAgentLine('h2', JSON.stringify({ ts, level: 'warn', msg: 'migration failed', vm: 'a', from: 'h2', to: 'h3', ok: false, totalMs: 3, error: 'refused' })), { kind: 'migrated', ok: false, error: 'refused' })
  t.is(parseAgentLine('h1', 'not json'), undefined)
})
