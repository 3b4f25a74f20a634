/**
 * The snapshot format (docs/planner.md, "Snapshot format") and its
 * validator. Every problem is reported with its path, what was expected and
 * what was found; all problems are listed, not just the first.
 */
import { type Checker as CheckerType, Checker, join, type Json } from './check.ts'
import { parseIpv6, parseIpv6Prefix } from './address.ts'
import { readRules } from './rules.ts'
import {
  type DataCenter, type ExternalPrefix, type Flow, type Host, type Link,
  type Snapshot, SNAPSHOT_VERSION, type Vm
} from './model.ts'

const TOP_KEYS = ['version', 'dcs', 'links', 'hosts', 'vms', 'prefixes', 'flows', 'rules'] as const

/** Validates untrusted JSON as a Snapshot, or throws a ValidationError. */
export function parseSnapshot (input: Json): Snapshot {
  const c = new Checker()
  const top = c.object('', input)
  if (top === undefined) { c.done('snapshot'); throw new Error('unreachable') }
  c.onlyKeys('', top, TOP_KEYS)
  if (top.version !== SNAPSHOT_VERSION) c.fail('version', `${SNAPSHOT_VERSION}`, top.version)

  // References are checked against every id present, even in an entry that
  // is invalid otherwise, so one bad entry is one issue, not a cascade.
  const dcs = list(c, 'dcs', top.dcs, (p, v) => readDc(c, p, v))
  unique(c, 'dcs', dcs)
  const dcIds = idsIn(top.dcs)
  const links = list(c, 'links', top.links, (p, v) => readLink(c, p, v, dcIds))
  const hosts = list(c, 'hosts', top.hosts, (p, v) => readHost(c, p, v, dcIds))
  unique(c, 'hosts', hosts)
  const hostIds = idsIn(top.hosts)
  const vms = list(c, 'vms', top.vms, (p, v) => readVm(c, p, v, hostIds))
  unique(c, 'vms', vms)
  const vmIds = idsIn(top.vms)
  const prefixes = list(c, 'prefixes', top.prefixes ?? [], (p, v) => readPrefix(c, p, v, dcIds))
  unique(c, 'prefixes', prefixes)
  const prefixIds = idsIn(top.prefixes)
  prefixes.forEach((p, i) => {
    if (vmIds.has(p.id)) c.fail(`prefixes[${i}].id`, 'an id not used by any VM', p.id)
  })
  const ends = new Set([...vmIds, ...prefixIds])
  const flows = list(c, 'flows', top.flows ?? [], (p, v) => readFlow(c, p, v, ends, prefixIds))
  const groups = new Set(vms.flatMap(v => v.group === undefined ? [] : [v.group]))
  const rules = top.rules === undefined ? undefined : readRules(c, 'rules', top.rules, { dcs: dcIds, vms: vmIds, groups })

  if (c.ok) checkLinks(c, links, dcs) // reachability only means something on sound records
  c.done('snapshot')
  const snapshot: Snapshot = { version: SNAPSHOT_VERSION, dcs, links, hosts, vms, prefixes, flows }
  if (rules !== undefined && rules.length > 0) snapshot.rules = rules
  return snapshot
}

function list<T> (c: CheckerType, path: string, value: Json, read: (path: string, v: Json) => T | undefined): T[] {
  const arr = c.array(path, value) ?? []
  const out: T[] = []
  arr.forEach((v, i) => {
    const item = read(join(path, i), v)
    if (item !== undefined) out.push(item)
  })
  return out
}

function idsIn (value: Json): Set<string> {
  const ids = new Set<string>()
  if (Array.isArray(value)) {
    for (const v of value) {
      if (typeof v === 'object' && v !== null && typeof (v as { id?: unknown }).id === 'string') ids.add((v as { id: string }).id)
    }
  }
  return ids
}

function unique (c: CheckerType, path: string, items: Array<{ id: string }>): Set<string> {
  const seen = new Set<string>()
  items.forEach((item, i) => {
    if (seen.has(item.id)) c.fail(`${path}[${i}].id`, 'an id not used before in this list', item.id)
    seen.add(item.id)
  })
  return seen
}

function readDc (c: CheckerType, path: string, v: Json): DataCenter | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['id'])
  const id = c.string(join(path, 'id'), o.id)
  return id === undefined ? undefined : { id }
}

function ref (c: CheckerType, path: string, v: Json, known: Set<string>, what: string): string | undefined {
  const id = c.string(path, v)
  if (id === undefined) return undefined
  if (!known.has(id)) { c.fail(path, `the id of ${what}`, id); return undefined }
  return id
}

function readLink (c: CheckerType, path: string, v: Json, dcs: Set<string>): Link | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['from', 'to', 'capacityBps', 'pricePerGB', 'latencyMs'])
  const from = ref(c, join(path, 'from'), o.from, dcs, 'a DC in dcs[]')
  const to = ref(c, join(path, 'to'), o.to, dcs, 'a DC in dcs[]')
  const capacityBps = c.number(join(path, 'capacityBps'), o.capacityBps, { positive: true })
  const pricePerGB = c.optional(o.pricePerGB, x => c.number(join(path, 'pricePerGB'), x, { min: 0 }))
  const latencyMs = c.optional(o.latencyMs, x => c.number(join(path, 'latencyMs'), x, { min: 0 }))
  if (from !== undefined && from === to) c.fail(join(path, 'to'), 'a DC other than "from"', to)
  if (from === undefined || to === undefined || capacityBps === undefined) return undefined
  const link: Link = { from, to, capacityBps }
  if (pricePerGB !== undefined) link.pricePerGB = pricePerGB
  if (latencyMs !== undefined) link.latencyMs = latencyMs
  return link
}

function readHost (c: CheckerType, path: string, v: Json, dcs: Set<string>): Host | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['id', 'dc', 'memoryMiB', 'vcpus', 'draining'])
  const id = c.string(join(path, 'id'), o.id)
  const dc = ref(c, join(path, 'dc'), o.dc, dcs, 'a DC in dcs[]')
  const memoryMiB = c.number(join(path, 'memoryMiB'), o.memoryMiB, { min: 0 })
  const vcpus = c.number(join(path, 'vcpus'), o.vcpus, { min: 0, integer: true })
  const draining = c.optional(o.draining, x => c.boolean(join(path, 'draining'), x))
  if (id === undefined || dc === undefined || memoryMiB === undefined || vcpus === undefined) return undefined
  const host: Host = { id, dc, memoryMiB, vcpus }
  if (draining === true) host.draining = true
  return host
}

function readVm (c: CheckerType, path: string, v: Json, hosts: Set<string>): Vm | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['id', 'host', 'addresses', 'memoryMiB', 'vcpus', 'pinned', 'group'])
  const id = c.string(join(path, 'id'), o.id)
  const host = ref(c, join(path, 'host'), o.host, hosts, 'a host in hosts[]')
  const addresses: string[] = []
  const arr = o.addresses === undefined ? [] : c.array(join(path, 'addresses'), o.addresses) ?? []
  arr.forEach((a, i) => {
    const p = join(join(path, 'addresses'), i)
    const s = c.string(p, a)
    if (s === undefined) return
    if (parseIpv6(s) === undefined) c.fail(p, 'an IPv6 address', s)
    else addresses.push(s)
  })
  const memoryMiB = c.number(join(path, 'memoryMiB'), o.memoryMiB, { min: 0 })
  const vcpus = c.number(join(path, 'vcpus'), o.vcpus, { min: 0, integer: true })
  const pinned = c.optional(o.pinned, x => c.boolean(join(path, 'pinned'), x))
  const group = c.optional(o.group, x => c.string(join(path, 'group'), x))
  if (id === undefined || host === undefined || memoryMiB === undefined || vcpus === undefined) return undefined
  const vm: Vm = { id, host, addresses, memoryMiB, vcpus }
  if (pinned !== undefined) vm.pinned = pinned
  if (group !== undefined) vm.group = group
  return vm
}

function readPrefix (c: CheckerType, path: string, v: Json, dcs: Set<string>): ExternalPrefix | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['id', 'prefix', 'dc'])
  const id = c.string(join(path, 'id'), o.id)
  const prefix = c.string(join(path, 'prefix'), o.prefix)
  if (prefix !== undefined && parseIpv6Prefix(prefix) === undefined) c.fail(join(path, 'prefix'), 'an IPv6 prefix such as "2001:db8::/48"', prefix)
  const dc = ref(c, join(path, 'dc'), o.dc, dcs, 'a DC in dcs[]')
  if (id === undefined || prefix === undefined || dc === undefined) return undefined
  return { id, prefix, dc }
}

function readFlow (c: CheckerType, path: string, v: Json, ends: Set<string>, prefixes: Set<string>): Flow | undefined {
  const o = c.object(path, v)
  if (o === undefined) return undefined
  c.onlyKeys(path, o, ['src', 'dst', 'bps'])
  const src = ref(c, join(path, 'src'), o.src, ends, 'a VM or an external prefix')
  const dst = ref(c, join(path, 'dst'), o.dst, ends, 'a VM or an external prefix')
  const bps = c.number(join(path, 'bps'), o.bps, { min: 0 })
  if (src === undefined || dst === undefined || bps === undefined) return undefined
  if (src === dst) { c.fail(join(path, 'dst'), 'an end other than "src"', dst); return undefined }
  if (prefixes.has(src) && prefixes.has(dst)) { c.fail(join(path, 'dst'), 'a VM (a flow needs at least one VM end)', dst); return undefined }
  return { src, dst, bps }
}

/** Every DC must reach every other over the links, or traffic has no path. */
function checkLinks (c: CheckerType, links: Link[], dcs: DataCenter[]): void {
  const seen = new Set<string>()
  links.forEach((l, i) => {
    const key = `${l.from}>${l.to}`
    if (seen.has(key)) c.fail(`links[${i}]`, 'one link per ordered pair of DCs', `a second ${l.from} -> ${l.to}`)
    seen.add(key)
  })
  for (const a of dcs) {
    const reach = new Set([a.id])
    const queue = [a.id]
    while (queue.length > 0) {
      const x = queue.shift()!
      for (const l of links) if (l.from === x && !reach.has(l.to)) { reach.add(l.to); queue.push(l.to) }
    }
    const missing = dcs.filter(d => !reach.has(d.id)).map(d => d.id)
    if (missing.length > 0) c.fail('links', `a path from every DC to every other DC`, `no path from ${a.id} to ${missing.join(', ')}`)
  }
}
