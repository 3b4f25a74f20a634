/** One `lab model` run over several sizes and protocols, as the text it prints. */
import { runModel, type ModelOptions, type Protocol } from './run.ts'
import { roleTable, roundsSummary } from './table.ts'
import { buildWorld } from './world.ts'

/** The model's options, with several sizes and protocols instead of one of each. */
export type ReportOptions = Omit<ModelOptions, 'hosts' | 'protocol' | 'world'> & {
  hosts: number[]
  protocols: Protocol[]
}

export function modelReport (o: ReportOptions): string {
  const parts: string[] = []
  for (const hosts of o.hosts) {
    const world = buildWorld({ hosts, dcs: o.dcs, vmsPerHost: o.vmsPerHost, seed: o.seed })
    for (const protocol of o.protocols) {
      const r = runModel({ ...o, hosts, protocol, world })
      parts.push(`${protocol}: ${hosts.toLocaleString('en-US')} hosts, ${world.dcCount} DCs, ${o.vmsPerHost} VMs per host, ${o.rounds} rounds of ${o.periodMs / 1000} s, seed ${o.seed}, crash rate ${o.crashRate}, loss ${o.loss}${protocol === 'tiered' ? `, change rate ${o.changeRate}` : ''}\n\n${roleTable(r)}\n\n${roundsSummary(r)}\n`)
    }
  }
  return parts.join('\n')
}
