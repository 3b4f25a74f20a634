/**
 * What the lab writes down for its hypervisor driver: the fabric (lab.json:
 * namespaces, the router, each host's bridge port) and one small record per
 * VM (vms/<id>.json: its namespace, its host-side veth end, MAC, address,
 * size). The records never say where a VM runs: the kernel does (the netns
 * its veth end is in), so a VM is on exactly one host by construction.
 */
import { readdir, readFile, rename, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { Checker, type Json } from '../../../lib/check.ts'

export const LAB_STATE_FILE = 'lab.json'
export const VM_RECORD_DIR = 'vms'
export const LAB_STATE_VERSION = 1
/** Every lab VM echoes UDP datagrams on this port: the driver's downtime probe. */
export const LAB_ECHO_PORT = 7

export interface LabHostState {
  /** The host's network namespace. */
  ns: string
  dc: string
  /** The router's bridge (L3 interface) for the host's DC. */
  dcBridge: string
  /** The router's port on that bridge that leads to this host. */
  routerPort: string
  /** The host's own address (where its agent listens). */
  address: string
}

export interface LabState {
  version: typeof LAB_STATE_VERSION
  prefix: string
  routerNs: string
  /** The gateway MAC every DC bridge of the router shares (an anycast gateway). */
  routerMac: string
  /** Every VM address is inside this prefix. */
  vmPrefix: string
  hosts: Record<string, LabHostState>
}

export interface LabVmRecord {
  id: string
  ns: string
  /** The host-side end of the VM's veth pair (its "vif"); moves between host namespaces. */
  vif: string
  mac: string
  addresses: string[]
  memoryMiB: number
  vcpus: number
}

/** Writes JSON atomically (write, then rename), so readers never see half a file. */
export async function writeJsonAtomic (path: string, value: unknown): Promise<void> {
  const tmp = `${path}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`
  await writeFile(tmp, JSON.stringify(value, null, 2) + '\n')
  await rename(tmp, path)
}

export async function readLabState (dir: string): Promise<LabState> {
  const path = join(dir, LAB_STATE_FILE)
  let json: Json
  try { json = JSON.parse(await readFile(path, 'utf8')) } catch (err) { throw new Error(`cannot read the lab state ${path}: ${(err as Error).message}`) }
  const c = new Checker()
  const o = c.object('', json) ?? {}
  if (o.version !== LAB_STATE_VERSION) c.fail('version', String(LAB_STATE_VERSION), o.version)
  const hostsIn = c.object('hosts', o.hosts) ?? {}
  const hosts: Record<string, LabHostState> = {}
  for (const [id, h] of Object.entries(hostsIn)) {
    const r = c.object(`hosts.${id}`, h) ?? {}
    const s = (k: string): string => c.string(`hosts.${id}.${k}`, r[k]) ?? ''
    hosts[id] = { ns: s('ns'), dc: s('dc'), dcBridge: s('dcBridge'), routerPort: s('routerPort'), address: s('address') }
  }
  const state: LabState = {
    version: LAB_STATE_VERSION,
    prefix: c.string('prefix', o.prefix) ?? '',
    routerNs: c.string('routerNs', o.routerNs) ?? '',
    routerMac: c.string('routerMac', o.routerMac) ?? '',
    vmPrefix: c.string('vmPrefix', o.vmPrefix) ?? '',
    hosts
  }
  c.done(path)
  return state
}

export async function readVmRecords (dir: string): Promise<LabVmRecord[]> {
  let names: string[]
  try { names = await readdir(join(dir, VM_RECORD_DIR)) } catch { return [] }
  const out: LabVmRecord[] = []
  for (const n of names.filter(n => n.endsWith('.json')).sort()) {
    const path = join(dir, VM_RECORD_DIR, n)
    let json: Json
    try { json = JSON.parse(await readFile(path, 'utf8')) } catch { continue /* being replaced; the rename makes the next read whole */ }
    out.push(parseVmRecord(json, path))
  }
  return out
}

function parseVmRecord (json: Json, path: string): LabVmRecord {
  const c = new Checker()
  const o = c.object('', json) ?? {}
  const rec: LabVmRecord = {
    id: c.string('id', o.id) ?? '',
    ns: c.string('ns', o.ns) ?? '',
    vif: c.string('vif', o.vif, { max: 15 }) ?? '',
    mac: c.string('mac', o.mac) ?? '',
    addresses: (c.array('addresses', o.addresses) ?? []).map((a, i) => c.string(`addresses[${i}]`, a) ?? ''),
    memoryMiB: c.number('memoryMiB', o.memoryMiB, { positive: true }) ?? 0,
    vcpus: c.number('vcpus', o.vcpus, { positive: true, integer: true }) ?? 0
  }
  c.done(path)
  return rec
}

export async function writeVmRecord (dir: string, rec: LabVmRecord): Promise<void> {
  await writeJsonAtomic(join(dir, VM_RECORD_DIR, `${encodeURIComponent(rec.id)}.json`), rec)
}
