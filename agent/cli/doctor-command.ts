/** `heliotrope doctor`: a preflight of this host (for its config) or of what the lab and tests need. */
import { readFile } from 'node:fs/promises'
import { parseConfig } from '../config.ts'
import { failed, formatChecks, type CheckResult } from '../doctor/check.ts'
import { hostChecks } from '../doctor/host-checks.ts'
import { labChecks } from '../doctor/lab-checks.ts'
import { DEFAULT_CONFIG_PATH } from './reach.ts'
import type { Command } from './run.ts'

export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'check this host: tools, kernel, clock, hypervisor, keys, peers',
  usage: `Usage: heliotrope doctor [--config FILE] [--lab] [--json]

Checks what this host needs and says how to fix what is missing. Changes
nothing.

With a config (--config FILE, or ${DEFAULT_CONFIG_PATH} when it exists):
Node, IPv6, the collector (real nftables, the kernel's nf_tables, bridge
netfilter, forwarding), the hypervisor (QEMU's binary and directory,
libvirtd at its URI, xl), the clock's sync state, the key files' modes, the
topology file, and whether the bootstrap peers accept connections.

Without one (or with --lab): what the lab and the test suite need: root,
iproute2, nftables and nf_tables, network namespaces, QEMU, a kernel image
and static busybox for the test guest, libvirt, tmux, cpio, systemd-analyze.

  --config FILE  the agent's config
  --lab          check the lab's needs even when a config exists
  --json         one JSON object: { ok, checks: [{ id, status, detail, fix }] }

Exit 0 when nothing failed (warnings allowed), 1 otherwise.
`,
  options: { config: { type: 'string', short: 'c' }, lab: { type: 'boolean' }, json: { type: 'boolean' } },
  async run (args) {
    const results = await checksFor(args.values.config as string | undefined, args.values.lab === true)
    if (args.values.json === true) process.stdout.write(JSON.stringify({ ok: failed(results).length === 0, checks: results }, null, 2) + '\n')
    else process.stdout.write(formatChecks(results))
    return failed(results).length === 0 ? 0 : 1
  }
}

async function checksFor (path: string | undefined, lab: boolean): Promise<CheckResult[]> {
  if (lab) return labChecks()
  let text: string
  try {
    text = await readFile(path ?? DEFAULT_CONFIG_PATH, 'utf8')
  } catch (err) {
    if (path === undefined) return labChecks()
    throw new Error(`cannot read ${path}: ${(err as Error).message}`)
  }
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new Error(`${path ?? DEFAULT_CONFIG_PATH} is not valid JSON: ${(err as Error).message}`) }
  return hostChecks(parseConfig(json))
}
