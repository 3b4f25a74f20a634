/**
 * A scenario's lab brought up for chaos: the network and the VMs, an API
 * proxy and a real agent per host namespace, the VMs' traffic processes
 * (silent until a phase is set). The same steps as `lab run`
 * (lab/run/runner.ts), kept apart so chaos can kill, restart and query
 * agents while it runs. close() stops everything and takes the lab down.
 */
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { readVmRecords, type LabState, type LabVmRecord } from '../drivers/lab-host/state.ts'
import { Lab } from '../net/lab.ts'
import { labHosts } from '../net/topology.ts'
import { writeRates, type RatesFile } from '../vm/rates.ts'
import { TrafficProcess } from '../vm/traffic-process.ts'
import { AgentProcess } from '../run/agents.ts'
import { sleep } from '../run/scenario-events.ts'
import { writeClusterFiles } from '../run/cluster-files.ts'
import type { AgentLogEvent } from '../run/log-events.ts'
import { AGENTS_READY_TIMEOUT_MS } from '../run/runner.ts'
import type { Scenario } from '../run/scenario.ts'
import { AgentApi } from './agent-api.ts'

export interface LabCluster {
  lab: Lab
  state: LabState
  records: LabVmRecord[]
  agents: Map<string, AgentProcess>
  apis: Map<string, AgentApi>
  /** host -> when its agent last logged 'agent started' (ms). */
  startedAt: Map<string, number>
  logFile: (host: string) => string
  /** Makes phase `i`'s flows the traffic. */
  setPhase: (i: number) => Promise<void>
  close: () => Promise<void>
}

export interface ClusterOptions {
  prefix: string
  dir: string
  print: (line: string) => void
  onAgentEvent?: (e: AgentLogEvent) => void
  onUnexpectedExit?: (host: string, code: number | null) => void
  signal?: AbortSignal
}

export async function startLabCluster (scenario: Scenario, opts: ClusterOptions): Promise<LabCluster> {
  const topo = scenario.topology
  const lab = Lab.fromTopology(topo, { prefix: opts.prefix, dir: opts.dir })
  const agents = new Map<string, AgentProcess>()
  const apis = new Map<string, AgentApi>()
  const traffic: TrafficProcess[] = []
  const startedAt = new Map<string, number>()
  const logFile = (host: string): string => join(opts.dir, 'logs', `${host}.log`)
  const close = async (): Promise<void> => {
    await Promise.all([...agents.values()].map(async a => a.stop()))
    await Promise.all(traffic.map(async t => t.stop()))
    for (const a of agents.values()) a.close()
    for (const api of apis.values()) api.stop()
    await lab.stop()
  }
  try {
    await rm(join(opts.dir, 'logs'), { recursive: true, force: true })
    await mkdir(join(opts.dir, 'logs'), { recursive: true })
    await mkdir(join(opts.dir, 'api'), { recursive: true })
    opts.print(`lab ${opts.prefix}: ${topo.dcs.length} DCs, ${labHosts(topo).length} hosts, ${scenario.vms.length} VMs, ${topo.externals.length} client networks; state in ${opts.dir}`)
    const state = await lab.start()
    await lab.addVms(scenario.vms)
    const records = await readVmRecords(opts.dir)
    const specs = await writeClusterFiles({ dir: opts.dir, state, topology: topo, roundPeriodMs: scenario.roundPeriodMs, planner: scenario.planner })
    for (const s of specs) apis.set(s.host, new AgentApi(s.host, s.ns, join(opts.dir, 'api', `${s.host}.sock`)))
    await Promise.all([...apis.values()].map(async a => a.start()))
    for (const s of specs) {
      const a = new AgentProcess(s, logFile(s.host), (e) => {
        if (e.kind === 'started') startedAt.set(e.host, Date.now())
        opts.onAgentEvent?.(e)
      }, (host, code, expected) => { if (!expected) opts.onUnexpectedExit?.(host, code) })
      agents.set(s.host, a)
      a.start()
    }
    opts.print(`starting ${specs.length} agents (round ${scenario.roundPeriodMs / 1000} s)...`)
    const readyBy = Date.now() + AGENTS_READY_TIMEOUT_MS
    while (startedAt.size < specs.length) {
      if (opts.signal?.aborted === true) throw new Error('aborted')
      const dead = [...agents.values()].find(a => !a.running)
      if (dead !== undefined) throw new Error(`the agent of ${dead.spec.host} did not start; see ${logFile(dead.spec.host)}`)
      if (Date.now() > readyBy) throw new Error(`agents not started after ${AGENTS_READY_TIMEOUT_MS / 1000} s: ${specs.filter(s => !startedAt.has(s.host)).map(s => s.host).join(', ')}`)
      await sleep(100, opts.signal)
    }
    const ratesFile = join(opts.dir, 'rates.json')
    const endpoints: Record<string, string> = {}
    for (const r of records) endpoints[r.id] = r.addresses[0]!
    for (const e of topo.externals) endpoints[e.id] = lab.externalAddress(e.id)
    const ratesOf = (i: number): RatesFile => ({ version: 1, endpoints, flows: scenario.phases[i]!.flows })
    await writeRates(ratesFile, { version: 1, endpoints, flows: [] })
    await rm(join(opts.dir, 'stats'), { recursive: true, force: true })
    await mkdir(join(opts.dir, 'stats'), { recursive: true })
    const guests = [...records.map(r => ({ ns: r.ns, id: r.id })), ...topo.externals.map(e => ({ ns: lab.externalNs(e.id), id: e.id }))]
    for (const g of guests) traffic.push(new TrafficProcess({ ns: g.ns, id: g.id, ratesFile, statsFile: join(opts.dir, 'stats', `${g.id}.json`), logFile: join(opts.dir, 'logs', `traffic-${g.id}.log`) }))
    return { lab, state, records, agents, apis, startedAt, logFile, setPhase: async (i) => writeRates(ratesFile, ratesOf(i)), close }
  } catch (err) {
    await close().catch(() => undefined)
    throw err
  }
}
