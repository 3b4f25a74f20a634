/**
 * The lab's topology file (lab/topologies/*.json): data centers with their
 * hosts (memory, vCPUs), WAN link capacities per direction, external
 * prefixes (clients) and the prefix VM addresses come from. Validated like
 * every input here: all problems at once, each with its path.
 *
 *   {
 *     "name": "star4",
 *     "vmPrefix": "fd00:ee::/64",
 *     "dcs": [{ "id": "dc0", "hosts": [{ "id": "dc0-h0", "memoryMiB": 2048, "vcpus": 4 }] }, ...],
 *     "links": [{ "between": ["dc0", "dc1"], "capacityBps": 2000000 },     both directions
 *               { "from": "dc0", "to": "dc2", "capacityBps": 1000000 }],   one direction
 *     "externals": [{ "id": "clients-eu", "prefix": "fd00:e1::/48", "dc": "dc0" }]
 *   }
 *
 * Every ordered pair of DCs needs a capacity: the router sits in the middle
 * of a star, so every pair is one hop apart, and an unshaped pair would be
 * an unlimited WAN link.
 */
import { parseIpv6Prefix, type Ipv6Prefix } from '../../lib/address.ts'
import { Checker, join, type Json } from '../../lib/check.ts'
import type { Topology } from '../../lib/topology.ts'
import { INFRA_PREFIX } from './addresses.ts'

export interface LabHost { id: string, dc: string, memoryMiB: number, vcpus: number }
export interface LabDc { id: string, hosts: LabHost[] }
export interface LabLink { from: string, to: string, capacityBps: number, latencyMs?: number, pricePerGB?: number }
export interface LabExternal { id: string, prefix: string, dc: string }

export interface LabTopology {
  name: string
  vmPrefix: string
  dcs: LabDc[]
  links: LabLink[]
  externals: LabExternal[]
}

export const DEFAULT_VM_PREFIX = 'fd00:ee::/64'
/** Small on purpose: one machine, two cores. */
export const MAX_DCS = 16
export const MAX_HOSTS_PER_DC = 8
export const MAX_EXTERNALS = 16
/** tc's htb cannot shape below about this. */
export const MIN_CAPACITY_BPS = 8_000
export const MAX_CAPACITY_BPS = 1e10
/** Ids become parts of namespace names and file names. */
const ID_RE = /^[a-z][a-z0-9-]{0,23}$/
const ID_RULE = 'an id of lower-case letters, digits and dashes, starting with a letter, at most 24 characters'
const ULA = parseIpv6Prefix('fd00::/8')!

export function parseLabTopology (input: Json): LabTopology {
  const c = new Checker()
  const o = c.object('', input) ?? {}
  c.onlyKeys('', o, ['name', 'description', 'vmPrefix', 'dcs', 'links', 'externals'])
  const name = o.name === undefined ? 'lab' : c.string('name', o.name) ?? 'lab'
  if (o.description !== undefined) c.string('description', o.description)
  const ids = new Map<string, string>()
  const id = (path: string, v: Json): string => {
    const s = c.string(path, v)
    if (s === undefined) return ''
    if (!ID_RE.test(s)) { c.fail(path, ID_RULE, s); return s }
    const seen = ids.get(s)
    if (seen !== undefined) c.fail(path, `an id not used before (${seen} has it)`, s)
    else ids.set(s, path)
    return s
  }
  const dcsIn = c.array('dcs', o.dcs) ?? []
  if (dcsIn.length === 0 || dcsIn.length > MAX_DCS) c.fail('dcs', `1 to ${MAX_DCS} data centers`, dcsIn)
  const dcs: LabDc[] = dcsIn.map((d, i) => {
    const p = join('dcs', i)
    const r = c.object(p, d) ?? {}
    c.onlyKeys(p, r, ['id', 'hosts'])
    const dcId = id(join(p, 'id'), r.id)
    const hostsIn = c.array(join(p, 'hosts'), r.hosts) ?? []
    if (hostsIn.length === 0 || hostsIn.length > MAX_HOSTS_PER_DC) c.fail(join(p, 'hosts'), `1 to ${MAX_HOSTS_PER_DC} hosts`, hostsIn)
    const hosts = hostsIn.map((h, k) => {
      const hp = join(join(p, 'hosts'), k)
      const hr = c.object(hp, h) ?? {}
      c.onlyKeys(hp, hr, ['id', 'memoryMiB', 'vcpus'])
      return {
        id: id(join(hp, 'id'), hr.id),
        dc: dcId,
        memoryMiB: c.number(join(hp, 'memoryMiB'), hr.memoryMiB, { positive: true }) ?? 0,
        vcpus: c.number(join(hp, 'vcpus'), hr.vcpus, { positive: true, integer: true }) ?? 0
      }
    })
    return { id: dcId, hosts }
  })
  const dcIds = new Set(dcs.map(d => d.id))
  const dcRef = (path: string, v: Json): string => {
    const s = c.string(path, v) ?? ''
    if (s !== '' && !dcIds.has(s)) c.fail(path, `a DC id (${[...dcIds].join(', ')})`, s)
    return s
  }

  const links: LabLink[] = []
  const linkPath = new Map<string, string>()
  ;(c.array('links', o.links) ?? []).forEach((l, i) => {
    const p = join('links', i)
    const r = c.object(p, l) ?? {}
    c.onlyKeys(p, r, ['between', 'from', 'to', 'capacityBps', 'latencyMs', 'pricePerGB'])
    const capacityBps = c.number(join(p, 'capacityBps'), r.capacityBps, { min: MIN_CAPACITY_BPS, max: MAX_CAPACITY_BPS }) ?? MIN_CAPACITY_BPS
    const extra: Partial<LabLink> = {}
    if (r.latencyMs !== undefined) extra.latencyMs = c.number(join(p, 'latencyMs'), r.latencyMs, { min: 0 }) ?? 0
    if (r.pricePerGB !== undefined) extra.pricePerGB = c.number(join(p, 'pricePerGB'), r.pricePerGB, { min: 0 }) ?? 0
    let pairs: Array<[string, string]> = []
    if (r.between !== undefined) {
      if (r.from !== undefined || r.to !== undefined) c.fail(p, '"between" or "from"/"to", not both', 'both')
      const b = c.array(join(p, 'between'), r.between) ?? []
      if (b.length !== 2) c.fail(join(p, 'between'), 'two DC ids', b)
      else {
        const x = dcRef(join(p, 'between[0]'), b[0]); const y = dcRef(join(p, 'between[1]'), b[1])
        pairs = [[x, y], [y, x]]
      }
    } else {
      pairs = [[dcRef(join(p, 'from'), r.from), dcRef(join(p, 'to'), r.to)]]
    }
    for (const [from, to] of pairs) {
      if (from === '' || to === '') continue
      if (from === to) { c.fail(p, 'two different DCs', from); continue }
      const key = `${from}->${to}`
      const before = linkPath.get(key)
      if (before !== undefined) { c.fail(p, `no second capacity for ${key} (${before} has one)`, key); continue }
      linkPath.set(key, p)
      links.push({ from, to, capacityBps, ...extra })
    }
  })
  if (c.ok) {
    const missing = dcs.flatMap(a => dcs.filter(b => b.id !== a.id && !linkPath.has(`${a.id}->${b.id}`)).map(b => `${a.id}->${b.id}`))
    if (missing.length > 0) c.fail('links', `a capacity for every ordered pair of DCs; missing ${missing.join(', ')}`, `${links.length} directions`)
  }

  const vmPrefix = o.vmPrefix === undefined ? DEFAULT_VM_PREFIX : c.string('vmPrefix', o.vmPrefix) ?? DEFAULT_VM_PREFIX
  const taken: Array<{ path: string, prefix: Ipv6Prefix }> = [{ path: 'the lab\'s own infrastructure prefix', prefix: parseIpv6Prefix(INFRA_PREFIX)! }]
  const ulaPrefix = (path: string, text: string, maxLength: number): void => {
    const p = parseIpv6Prefix(text)
    if (p === undefined) { c.fail(path, 'an IPv6 prefix such as "fd00:e1::/48" (no host bits set)', text); return }
    if (p.length < 16 || p.length > maxLength) { c.fail(path, `a prefix length from 16 to ${maxLength}`, text); return }
    if (!inside(ULA, p)) { c.fail(path, 'a unique local prefix inside fd00::/8 (the lab never routes anything else)', text); return }
    const clash = taken.find(t => inside(t.prefix, p) || inside(p, t.prefix))
    if (clash !== undefined) { c.fail(path, `a prefix that does not overlap ${clash.path}`, text); return }
    taken.push({ path, prefix: p })
  }
  ulaPrefix('vmPrefix', vmPrefix, 112)

  const extIn = o.externals === undefined ? [] : c.array('externals', o.externals) ?? []
  if (extIn.length > MAX_EXTERNALS) c.fail('externals', `at most ${MAX_EXTERNALS}`, extIn)
  const externals: LabExternal[] = extIn.map((e, i) => {
    const p = join('externals', i)
    const r = c.object(p, e) ?? {}
    c.onlyKeys(p, r, ['id', 'prefix', 'dc'])
    const ext = { id: id(join(p, 'id'), r.id), prefix: c.string(join(p, 'prefix'), r.prefix) ?? '', dc: dcRef(join(p, 'dc'), r.dc) }
    if (ext.prefix !== '') ulaPrefix(join(p, 'prefix'), ext.prefix, 64)
    return ext
  })
  c.done('lab topology')
  return { name, vmPrefix, dcs, links, externals }
}

/** True when `inner` lies entirely inside `outer`. */
function inside (outer: Ipv6Prefix, inner: Ipv6Prefix): boolean {
  if (inner.length < outer.length) return false
  let bits = outer.length
  for (let i = 0; i < 8 && bits > 0; i++) {
    const take = Math.min(16, bits)
    const mask = (0xffff << (16 - take)) & 0xffff
    if ((outer.groups[i]! & mask) !== (inner.groups[i]! & mask)) return false
    bits -= take
  }
  return true
}

export function labHosts (t: LabTopology): LabHost[] {
  return t.dcs.flatMap(d => d.hosts)
}

/** The agents' topology file: DCs, links, external prefixes. */
export function agentTopology (t: LabTopology): Topology {
  return {
    dcs: t.dcs.map(d => ({ id: d.id })),
    links: t.links.map(l => ({ ...l })),
    prefixes: t.externals.map(e => ({ id: e.id, prefix: e.prefix, dc: e.dc }))
  }
}
