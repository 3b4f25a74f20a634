/** `heliotrope lab up TOPOLOGY`: builds the lab network and leaves it running. */
import { UsageError } from '../../agent/cli/errors.ts'
import type { Command } from '../../agent/cli/run.ts'
import { hostAddress, externalAddress } from '../net/addresses.ts'
import { Lab } from '../net/lab.ts'
import { DEFAULT_LAB_PREFIX } from '../net/names.ts'
import { parseLabTopology } from '../net/topology.ts'
import { readJson } from './input.ts'

export const labUpCommand: Command = {
  name: 'up',
  summary: 'build a topology in network namespaces (router, hosts, client networks, shaping)',
  usage: `Usage: heliotrope lab up TOPOLOGY.json [--prefix P] [--dir DIR]

Builds the lab of TOPOLOGY (see lab/topologies/): one namespace per host
with a bridge br0 for its VMs, one router namespace with a bridge per DC
and an htb class per WAN direction at its capacity, one namespace per
client network, IPv6 ULA addresses and routes. Every namespace is named
P-...; a lab already there under P is removed first. Needs root.
Take it down with \`heliotrope lab down --prefix P\`.

Options:
  --prefix P   namespace name prefix (default ${DEFAULT_LAB_PREFIX})
  --dir DIR    the lab's state directory (default /tmp/heliotrope-lab/P)
`,
  options: { prefix: { type: 'string' }, dir: { type: 'string' } },
  async run (args) {
    const file = args.positionals[0]
    if (file === undefined) throw new UsageError('which topology? give a file such as lab/topologies/star4.json')
    const topo = parseLabTopology(await readJson(file))
    const lab = Lab.fromTopology(topo, { prefix: (args.values.prefix as string | undefined) ?? DEFAULT_LAB_PREFIX, ...(typeof args.values.dir === 'string' ? { dir: args.values.dir } : {}) })
    try {
      await lab.start()
    } catch (err) {
      await lab.stop().catch(() => undefined)
      throw err
    }
    const lines = [`lab ${lab.prefix} is up (state in ${lab.dir}): router ${lab.state.routerNs}`]
    topo.dcs.forEach((d, i) => {
      lines.push(`  ${d.id}: ${d.hosts.map((h, k) => `${h.id} ${lab.state.hosts[h.id]!.ns} [${hostAddress(i, k)}]`).join(', ')}`)
    })
    for (const l of topo.links) lines.push(`  link ${l.from} -> ${l.to}: ${l.capacityBps / 1e6} Mbit/s`)
    for (const e of topo.externals) lines.push(`  clients ${e.id} at ${e.dc}: ${lab.externalNs(e.id)} [${externalAddress(e.prefix)}]`)
    process.stdout.write(lines.join('\n') + '\n')
    return 0
  }
}
