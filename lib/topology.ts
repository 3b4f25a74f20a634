/**
 * The cluster's topology file: DCs, WAN links and external prefixes, the
 * parts of a snapshot that operators write down rather than measure. Every
 * agent loads the same file; its hash travels in HostState so agents with
 * different topologies notice. A new file is staged and switched to by
 * every agent at one round (docs/design.md §3.8, lib/topology-switch.ts).
 */
import { Checker, type Json } from './check.ts'
import type { DataCenter, ExternalPrefix, Link } from './model.ts'
import { parseSnapshot } from './snapshot.ts'

export interface Topology {
  dcs: DataCenter[]
  links: Link[]
  prefixes: ExternalPrefix[]
}

/** Validates a topology file (the snapshot validator checks the shared parts). */
export function parseTopology (input: Json): Topology {
  const c = new Checker()
  const o = c.object('', input)
  if (o !== undefined) c.onlyKeys('', o, ['dcs', 'links', 'prefixes'])
  c.done('topology')
  const snap = parseSnapshot({ version: 1, dcs: o!.dcs, links: o!.links, prefixes: o!.prefixes ?? [], hosts: [], vms: [], flows: [] })
  return { dcs: snap.dcs, links: snap.links, prefixes: snap.prefixes }
}
