/**
 * xl outputs for the tests: files copied from Xen's and libvirt's sources,
 * and what the tests assemble from them following xl's own code
 * (fixtures/SOURCES.md says which is which).
 */
import { readFile } from 'node:fs/promises'

export async function fixture (name: string): Promise<string> {
  return await readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
}

/** A libxl config fixture, parsed, with its name replaced when given. */
export async function config (file: string, name?: string): Promise<Record<string, unknown>> {
  const c = JSON.parse(await fixture(file)) as { c_info: Record<string, unknown> }
  if (name !== undefined) c.c_info.name = name
  return c
}

/** CONSTRUCTED: `xl list -l` as tools/xl/xl_info.c prints it, an array of {domid, config}. */
export function xlListLong (domains: Array<{ domid: number, config: Record<string, unknown> }>): string {
  return JSON.stringify(domains.map(d => ({ domid: d.domid, config: d.config })), null, 4) + '\n'
}

/** CONSTRUCTED: `xl list` with xl_info.c's header and row format ("%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f"). */
export function xlList (rows: Array<{ name: string, domid: number, memMiB: number, vcpus: number, state: string, seconds: number }>): string {
  const pad = (s: string, n: number): string => s.padEnd(n)
  const right = (s: string, n: number): string => s.padStart(n)
  let out = 'Name                                        ID   Mem VCPUs\tState\tTime(s)\n'
  for (const r of rows) {
    out += `${pad(r.name, 40)} ${right(String(r.domid), 5)} ${right(String(r.memMiB), 5)} ${right(String(r.vcpus), 5)}     ${r.state}  ${right(r.seconds.toFixed(1), 8)}\n`
  }
  return out
}
