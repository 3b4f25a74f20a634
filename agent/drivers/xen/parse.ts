/**
 * What xl prints (Xen 4.x; formats from tools/xl/xl_info.c): `xl list`, a
 * table whose last five columns are ID, Mem (MiB), VCPUs, State and
 * Time(s); and `xl list -l`, a JSON array of {"domid", "config"} where
 * config is libxl's domain configuration (c_info: name, uuid; b_info:
 * max_memkb, max_vcpus; nics[].ip: the vif's addresses, space-separated).
 * The JSON carries no run state, so the driver needs both.
 */
import { isIPv6 } from 'node:net'
import { HypervisorError } from '../types.ts'

export interface XlListRow {
  name: string
  domid: number
  memMiB: number
  vcpus: number
  /** Six flags, one letter or '-' each: r(unning) b(locked) p(aused) s(hutdown) c(rashed) d(ying). */
  state: string
}

/** `xl list`: skips the header; a name may contain spaces, so columns are taken from the right. */
export function parseXlList (text: string): XlListRow[] {
  const rows: XlListRow[] = []
  for (const line of text.split('\n')) {
    const cols = line.trim().split(/\s+/)
    if (cols.length < 6 || cols[0] === 'Name') continue
    const [id, mem, vcpus, state, time] = cols.slice(-5) as [string, string, string, string, string]
    if (!/^\d+$/.test(id) || !/^\d+$/.test(mem) || !/^\d+$/.test(vcpus) || !/^[rbpscd?-]{6}$/.test(state) || !/^[\d.]+$/.test(time)) {
      throw new HypervisorError(`xl list row not understood: ${JSON.stringify(line.trim())}`)
    }
    rows.push({ name: cols.slice(0, -5).join(' '), domid: Number(id), memMiB: Number(mem), vcpus: Number(vcpus), state })
  }
  return rows
}

export interface XlDomainConfig {
  domid: number
  name: string
  uuid?: string
  maxMemKiB?: number
  targetMemKiB?: number
  maxVcpus?: number
  /** Every address the vifs' ip settings name. */
  ips: string[]
}

/** `xl list -l`: the domains' libxl configurations. */
export function parseXlListLong (text: string): XlDomainConfig[] {
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new HypervisorError(`xl list -l did not print JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(doc)) throw new HypervisorError('xl list -l did not print a JSON array')
  const out: XlDomainConfig[] = []
  for (const entry of doc as unknown[]) {
    const e = obj(entry)
    const config = obj(e?.config)
    const cInfo = obj(config?.c_info)
    const bInfo = obj(config?.b_info)
    if (e === undefined || typeof e.domid !== 'number' || typeof cInfo?.name !== 'string') continue // not a domain we can name
    const d: XlDomainConfig = { domid: e.domid, name: cInfo.name, ips: [] }
    if (typeof cInfo.uuid === 'string') d.uuid = cInfo.uuid
    if (typeof bInfo?.max_memkb === 'number') d.maxMemKiB = bInfo.max_memkb
    if (typeof bInfo?.target_memkb === 'number') d.targetMemKiB = bInfo.target_memkb
    if (typeof bInfo?.max_vcpus === 'number') d.maxVcpus = bInfo.max_vcpus
    const nics = Array.isArray(config?.nics) ? config.nics as unknown[] : []
    for (const nic of nics) {
      const ip = obj(nic)?.ip
      if (typeof ip === 'string') d.ips.push(...ip.split(/\s+/).filter(Boolean))
    }
    out.push(d)
  }
  return out
}

/** The IPv6 addresses among a vif's ip settings (a prefix length is dropped), link-local ones left out. */
export function ipv6Of (ips: readonly string[]): string[] {
  const out = ips.map(ip => ip.replace(/\/\d+$/, '')).filter(ip => isIPv6(ip) && !/^fe[89ab]/i.test(ip))
  return [...new Set(out)]
}

function obj (v: unknown): Record<string, unknown> | undefined {
  return typeof v === 'object' && v !== null && !Array.isArray(v) ? v as Record<string, unknown> : undefined
}
