/** `heliotrope lab down`: removes a lab from its prefix alone (after a crash too). */
import type { Command } from '../../agent/cli/run.ts'
import { labDown } from '../net/down.ts'
import { DEFAULT_LAB_PREFIX } from '../net/names.ts'

export const labDownCommand: Command = {
  name: 'down',
  summary: 'remove a lab: its processes, namespaces, interfaces, shaping',
  usage: `Usage: heliotrope lab down [--prefix P]

Kills every process in the namespaces named P-... and deletes them, which
removes every interface, bridge, qdisc and nftables table of the lab.
Nothing of a lab lives outside its namespaces. Safe to run twice, and
after a crash. Default prefix: ${DEFAULT_LAB_PREFIX}.
`,
  options: { prefix: { type: 'string' } },
  async run (args) {
    const prefix = (args.values.prefix as string | undefined) ?? DEFAULT_LAB_PREFIX
    const r = await labDown(prefix)
    process.stdout.write(r.namespaces === 0 ? `no lab ${prefix} here\n` : `lab ${prefix} removed: ${r.namespaces} namespaces, ${r.processes} processes\n`)
    return 0
  }
}
