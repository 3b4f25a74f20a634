import test from 'ava'
import { ValidationError } from '../../lib/errors.ts'
import { parseSnapshot } from '../../lib/snapshot.ts'
import { workedExample } from './fixtures.ts'

/** Applies `mutate` to a valid snapshot and expects exactly this issue among the reported ones. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- mutate reaches into deliberately malformed JSON
function rejects (name: string, mutate: (s: any) => void, path: string, expected: RegExp, found: RegExp): void {
  test(`invalid snapshot: ${name}`, t => {
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- tests build deliberately malformed JSON
    const snap: any = structuredClone(workedExample())
    mutate(snap)
    const err = t.throws(() => parseSnapshot(snap), { instanceOf: ValidationError })
    const issue = err?.issues.find(i => i.path === path)
    t.truthy(issue, `no issue at ${path}: ${err?.message}`)
    t.regex(issue!.expected, expected)
    t.regex(issue!.found, found)
    t.true(err!.message.includes(path))
  })
}

test('the worked example is valid and round-trips unchanged', t => {
  const snap = workedExample()
  t.deepEqual(parseSnapshot(JSON.parse(JSON.stringify(snap))), snap)
})

rejects('not an object', s => { for (const k of Object.keys(s)) delete s[k]; s.version = 1; s.dcs = 'x' }, 'dcs', /an array/, /"x"/)
rejects('wrong version', s => { s.version = 2 }, 'version', /^1$/, /^2$/)
rejects('unknown top-level field', s => { s.extra = true }, 'extra', /one of the fields/, /"extra"/)
rejects('duplicate DC id', s => { s.dcs.push({ id: 'A' }) }, 'dcs[3].id', /not used before/, /"A"/)
rejects('link to an unknown DC', s => { s.links[0].to = 'Z' }, 'links[0].to', /the id of a DC/, /"Z"/)
rejects('link capacity not positive', s => { s.links[1].capacityBps = 0 }, 'links[1].capacityBps', /above 0/, /^0$/)
rejects('link capacity not a number', s => { s.links[1].capacityBps = '1G' }, 'links[1].capacityBps', /finite number/, /"1G"/)
rejects('link from a DC to itself', s => { s.links[0].to = 'A' }, 'links[0].to', /other than "from"/, /"A"/)
rejects('duplicate link', s => { s.links.push({ ...s.links[0] }) }, 'links[6]', /one link per ordered pair/, /A -> B/)
rejects('a DC no link reaches', s => { s.dcs.push({ id: 'D' }) }, 'links', /a path from every DC/, /no path from A to D/)
rejects('host in an unknown DC', s => { s.hosts[0].dc = 'Q' }, 'hosts[0].dc', /the id of a DC/, /"Q"/)
rejects('negative host memory', s => { s.hosts[2].memoryMiB = -1 }, 'hosts[2].memoryMiB', />= 0/, /-1/)
rejects('fractional vCPUs', s => { s.hosts[2].vcpus = 1.5 }, 'hosts[2].vcpus', /an integer/, /1.5/)
rejects('VM on an unknown host', s => { s.vms[1].host = 'nowhere' }, 'vms[1].host', /the id of a host/, /"nowhere"/)
rejects('VM with a bad IPv6 address', s => { s.vms[0].addresses = ['fd00::1', '10.0.0.1'] }, 'vms[0].addresses[1]', /an IPv6 address/, /"10.0.0.1"/)
rejects('VM pinned not a boolean', s => { s.vms[0].pinned = 'yes' }, 'vms[0].pinned', /true or false/, /"yes"/)
rejects('VM id empty', s => { s.vms[0].id = '' }, 'vms[0].id', /non-empty/, /""/)
rejects('prefix that is not a prefix', s => { s.prefixes = [{ id: 'p', prefix: '2001:db8::1/48', dc: 'A' }] }, 'prefixes[0].prefix', /IPv6 prefix/, /2001:db8::1\/48/)
rejects('prefix id taken by a VM', s => { s.prefixes = [{ id: 'v1', prefix: '2001:db8::/48', dc: 'A' }] }, 'prefixes[0].id', /not used by any VM/, /"v1"/)
rejects('flow to an unknown VM', s => { s.flows[0].dst = 'ghost' }, 'flows[0].dst', /a VM or an external prefix/, /"ghost"/)
rejects('flow from a VM to itself', s => { s.flows[0].dst = 'v1' }, 'flows[0].dst', /other than "src"/, /"v1"/)
rejects('flow with a negative rate', s => { s.flows[2].bps = -5 }, 'flows[2].bps', />= 0/, /-5/)
rejects('flow between two prefixes', s => {
  s.prefixes = [{ id: 'p', prefix: '2001:db8::/48', dc: 'A' }, { id: 'q', prefix: '2001:db8:1::/48', dc: 'B' }]
  s.flows.push({ src: 'p', dst: 'q', bps: 1 })
}, 'flows[4].dst', /at least one VM/, /"q"/)

test('every problem is listed, not only the first', t => {
  const snap: any = structuredClone(workedExample()) // eslint-disable-line @typescript-eslint/no-explicit-any -- malformed on purpose
  snap.hosts[0].dc = 'Q'; snap.vms[1].memoryMiB = 'big'; snap.flows[0].bps = null
  const err = t.throws(() => parseSnapshot(snap), { instanceOf: ValidationError })
  t.deepEqual(err!.issues.map(i => i.path), ['hosts[0].dc', 'vms[1].memoryMiB', 'flows[0].bps'])
})
