import test from 'ava'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { parseConfig, rolloutRoundsOf } from '../../../agent/config.ts'
import { ValidationError } from '../../../lib/errors.ts'
import { generatePsk } from '../../../agent/net/keys.ts'
import { heliotrope } from '../cli-run.ts'

const BASE = {
  cluster: 'prod',
  host: 'h1',
  dc: 'A',
  pskFile: '/etc/heliotrope/psk',
  members: [{ host: 'h1', peerId: 'P1' }],
  topologyFile: '/etc/heliotrope/topology.json',
  address: 'fd00::1',
  capacity: { memoryMiB: 4096, vcpus: 4 },
  collector: { kind: 'file', path: '/run/heliotrope/flows' },
  hypervisor: { kind: 'xen' }
}

/** Two valid peer ids (Ed25519), as `heliotrope init` prints them. */
const PEER_1 = '12D3KooWFzyeL14EMTgidzMfRqoHhciSkkcMhY1PEkCKrLJQjRmh'
const PEER_2 = '12D3KooWPtaUqMv565tzzJYvngRQfTWbEDhKSAaMnV2DTT9Kopqd'

function issues (config: unknown): string[] {
  try { parseConfig(config); return [] } catch (err) {
    if (err instanceof ValidationError) return err.message.split('\n').slice(1).map(l => l.trim())
    throw err
  }
}

test('every kind of config error names the field, the form expected and the value found', t => {
  const cases: Array<[string, Record<string, unknown>, string]> = [
    ['unknown field', { colour: 'blue' }, 'colour: expected one of the fields cluster, host, dc'],
    ['wrong type', { roundPeriodMs: 'fast' }, 'roundPeriodMs: expected a finite number, found "fast"'],
    ['below the minimum', { safety: { maxInFlight: 0 } }, 'safety.maxInFlight: expected a number >= 1, found 0'],
    ['not an integer', { safety: { cooldownRounds: 1.5 } }, 'safety.cooldownRounds: expected an integer, found 1.5'],
    ['above the maximum', { safety: { minImprovement: 2 } }, 'safety.minImprovement: expected a number <= 1, found 2'],
    ['not one of the choices', { mode: 'yolo' }, 'mode: expected one of "observe", "dry-run", "approve", "auto", found "yolo"'],
    ['bad format', { address: '10.0.0.1' }, 'address: expected an IPv6 address, found "10.0.0.1"'],
    ['bad name', { cluster: 'Bad Name' }, 'cluster: expected lower-case letters, digits and dashes, 1-63 characters, found "Bad Name"'],
    ['missing', { pskFile: undefined }, 'pskFile: expected a string, found nothing'],
    ['not an object', { safety: 5 }, 'safety: expected an object, found 5'],
    ['unknown nested field', { safety: { maxInFlights: 3 } }, 'safety.maxInFlights: expected one of the fields maxInFlight, maxInFlightPerHost, cooldownRounds, minImprovement, approvalWindowRounds, found "maxInFlights"'],
    ['inconsistent', { members: [{ host: 'h2', peerId: 'P2' }] }, 'members: expected an entry for this host (h1), found "none"'],
    ['bad migration tuning', { hypervisor: { kind: 'qemu', dir: '/x', migration: { maxBandwidthBytesPerSec: '100M' } } }, 'hypervisor.migration.maxBandwidthBytesPerSec: expected a finite number, found "100M"'],
    ['socket path too long', { controlSocket: `/run/${'x'.repeat(120)}` }, 'controlSocket: expected a path that leaves the control socket at most 107 bytes long']
  ]
  for (const [kind, patch, needle] of cases) {
    const found = issues({ ...BASE, ...patch })
    t.true(found.some(i => i.startsWith(needle)), `${kind}: ${needle}\nnot in:\n${found.join('\n')}`)
    t.is(found.length, 1, `${kind}: one issue, not a cascade: ${found.join(' | ')}`)
  }
  t.deepEqual(issues(BASE), [])
  const all = issues({ ...BASE, mode: 'x', safety: { maxInFlight: -1, cooldownRounds: 'a' } })
  t.is(all.length, 3, 'every problem is listed at once')
})

test('the defaults: mode observe (nothing migrates unless asked for), KubeVirt-like limits, the control socket in the state directory', t => {
  const c = parseConfig(BASE)
  t.is(c.mode, 'observe')
  t.deepEqual(c.safety, { maxInFlight: 5, maxInFlightPerHost: 2, cooldownRounds: 3, minImprovement: 0.01, approvalWindowRounds: 10 })
  t.is(c.controlSocket, '/var/lib/heliotrope/control.sock')
  t.is(parseConfig({ ...BASE, stateDir: '/srv/ht' }).controlSocket, '/srv/ht/control.sock')
})

test('`heliotrope config check` passes a good config with its files, and lists what is wrong with a bad one', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htcfg-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'psk'), generatePsk(), { mode: 0o600 })
  await writeFile(join(dir, 'topology.json'), JSON.stringify({ dcs: [{ id: 'A' }], links: [] }))
  const good = { ...BASE, members: [{ host: 'h1', peerId: PEER_1 }], pskFile: join(dir, 'psk'), topologyFile: join(dir, 'topology.json'), stateDir: join(dir, 'state') }
  await writeFile(join(dir, 'good.json'), JSON.stringify(good))
  const ok = await heliotrope(['config', 'check', join(dir, 'good.json')])
  t.is(ok.code, 0, ok.err)
  t.regex(ok.out, /good\.json: ok\n\s+cluster prod, host h1 \(dc A\), mode observe/)
  await writeFile(join(dir, 'bad.json'), JSON.stringify({ ...good, mode: 'yolo', safety: { maxInFlight: 0 } }))
  const bad = await heliotrope(['config', 'check', join(dir, 'bad.json')])
  t.is(bad.code, 1)
  t.regex(bad.err, /mode: expected one of "observe", "dry-run", "approve", "auto", found "yolo"/)
  t.regex(bad.err, /safety\.maxInFlight: expected a number >= 1, found 0/)
  await writeFile(join(dir, 'files.json'), JSON.stringify({ ...good, dc: 'B', pskFile: join(dir, 'nope') }))
  const files = await heliotrope(['config', 'check', join(dir, 'files.json')])
  t.is(files.code, 1)
  t.regex(files.err, /pskFile: expected a readable pre-shared key file/)
  t.regex(files.err, /dc: expected a DC of .*topology\.json \(A\), found "B"/)
  t.is((await heliotrope(['config', 'lint', 'x'])).code, 2)
  t.truthy(await readFile(join(dir, 'good.json')))
})

test('`heliotrope config check` catches what the schema lets through: peer ids, multiaddrs, and the files beside bad fields', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htcfg-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'psk'), generatePsk(), { mode: 0o600 })
  await writeFile(join(dir, 'topology.json'), JSON.stringify({ dcs: [{ id: 'A' }], links: [] }))
  const good = {
    ...BASE,
    members: [{ host: 'h1', peerId: PEER_1 }, { host: 'h2', peerId: PEER_2, addresses: ['/ip6/fd00::2/tcp/4001'] }],
    listen: ['/ip6/fd00::1/tcp/4001'],
    bootstrap: [`/ip6/fd00::2/tcp/4001/p2p/${PEER_2}`],
    pskFile: join(dir, 'psk'),
    topologyFile: join(dir, 'topology.json'),
    stateDir: join(dir, 'state')
  }
  await writeFile(join(dir, 'good.json'), JSON.stringify(good))
  const ok = await heliotrope(['config', 'check', join(dir, 'good.json')])
  t.is(ok.code, 0, ok.err)
  const mistakes = {
    ...good,
    members: [{ host: 'h1', peerId: PEER_1 }, { host: 'h2', peerId: '12D3KooWbogus', addresses: ['/ip6/fd00::2/tcp/notaport'] }],
    listen: ['/ip4/0.0.0.0/tcp/4001'],
    bootstrap: ['/ip6/fd00::2/tcp/4001', `/ip6/fd00::3/tcp/4001/p2p/${PEER_2}`],
    observers: ['watcher']
  }
  await writeFile(join(dir, 'mistakes.json'), JSON.stringify(mistakes))
  const bad = await heliotrope(['config', 'check', join(dir, 'mistakes.json')])
  t.is(bad.code, 1)
  const lines = bad.err.split('\n').filter(l => l.startsWith('  '))
  const expect = [
    /members\.1\.peerId: expected a libp2p peer id .* found "12D3KooWbogus"/,
    /members\.1\.addresses\.0: expected a multiaddr/,
    /observers\.0: expected a libp2p peer id, found "watcher"/,
    /listen\.0: expected an IPv6 multiaddr .* found "\/ip4\/0\.0\.0\.0\/tcp\/4001"/,
    /bootstrap\.0: expected a multiaddr ending in \/p2p\/<peer id>/,
    // PEER_2's own entry is the bogus one now: the dial target names no member.
    /bootstrap\.1: expected the address of a member/
  ]
  for (const re of expect) t.true(lines.some(l => re.test(l)), `${String(re)} not in:\n${bad.err}`)
  t.is(lines.length, expect.length, bad.err)
  // A bad field and a missing key file: both reported, not the field alone.
  await writeFile(join(dir, 'both.json'), JSON.stringify({ ...good, plannr: {}, pskFile: join(dir, 'nope') }))
  const both = await heliotrope(['config', 'check', join(dir, 'both.json')])
  t.is(both.code, 1)
  t.regex(both.err, /plannr: expected a known field \(did you mean planner\?\)/)
  t.regex(both.err, /pskFile: expected a readable pre-shared key file/)
})

test('rounds are played forward by default only where a round leaves the plan its time; a set value wins; a bad one is an error', t => {
  // The default round (30 s) gives a plan 3 s; the lab's 4 s rounds give it 0.4 s.
  const rounds = (c: ReturnType<typeof parseConfig>): number => rolloutRoundsOf(c.planner, c.roundPeriodMs)
  t.is(rounds(parseConfig(BASE)), 24)
  t.is(rounds(parseConfig({ ...BASE, roundPeriodMs: 4000 })), 0)
  t.is(rounds(parseConfig({ ...BASE, roundPeriodMs: 4000, planner: { rolloutRounds: 3 } })), 3)
  t.is(rounds(parseConfig({ ...BASE, planner: { rolloutRounds: 0 } })), 0)
  // Unset, it stays unset in the parsed config: a reload that changes the period (a restart) changes no live planner field.
  t.is(parseConfig(BASE).planner.rolloutRounds, undefined)
  t.true(issues({ ...BASE, planner: { rolloutRounds: -1 } }).some(i => i.includes('planner.rolloutRounds')))
  t.true(issues({ ...BASE, planner: { rolloutRounds: 1.5 } }).some(i => i.includes('planner.rolloutRounds')))
})
