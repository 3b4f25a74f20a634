/**
 * A small mesh for the API and console tests: three real agents (one per DC)
 * from the mesh harness, each with its API on [::1] at a free port. Two
 * applications have one VM in every DC, so the first rounds plan moves.
 */
import { ApiServer } from '../../../agent/api/server.ts'
import { silentLogger } from '../../../agent/log.ts'
import type { SimTraffic, SimVm } from '../../../lab/drivers/sim-host/world.ts'
import { startTestCluster, waitFor, type ClusterSpec, type TestCluster } from '../mesh/harness.ts'

export const MESH_DCS = ['A', 'B', 'C']
export const MESH_ROUND_MS = 1500

export function smallMeshSpec (extraMembers: string[] = []): ClusterSpec {
  const vms: SimVm[] = []
  const flows: SimTraffic['flows'] = []
  for (let app = 0; app < 2; app++) {
    const ids = MESH_DCS.map((dc, k) => {
      const id = `app${app}-${k}`
      vms.push({ id, host: dc.toLowerCase(), memoryMiB: 1024, vcpus: 1, addresses: [`fd00:1::${app}:${k + 1}`] })
      return id
    })
    for (const a of ids) for (const b of ids) if (a !== b) flows.push({ src: a, dst: b, bps: 50e6 * (app + 1) })
  }
  const links = MESH_DCS.flatMap(a => MESH_DCS.filter(b => b !== a).map(b => ({ from: a, to: b, capacityBps: 1e9 })))
  return {
    topology: { dcs: MESH_DCS.map(id => ({ id })), links, prefixes: [] },
    hosts: MESH_DCS.map(dc => ({ host: dc.toLowerCase(), dc, memoryMiB: 4096, vcpus: 8 })),
    vms,
    traffic: { flows, prefixes: [] },
    roundPeriodMs: MESH_ROUND_MS,
    planner: { maxMoves: 4, maxMovesPerHost: 2, minGain: 0 },
    extraMembers
  }
}

export interface ApiMesh {
  cluster: TestCluster
  /** host -> its API server. */
  apis: Map<string, ApiServer>
  close (): Promise<void>
}

/** `extraMembers`: names in everyone's member list that run no agent (a test drives them). */
export async function startApiMesh (extraMembers: string[] = []): Promise<ApiMesh> {
  const teardowns: Array<() => Promise<void> | void> = []
  const cluster = await startTestCluster({ teardown: fn => { teardowns.push(fn) } }, smallMeshSpec(extraMembers))
  const apis = new Map<string, ApiServer>()
  const close = async (): Promise<void> => {
    for (const api of apis.values()) await api.stop()
    for (const fn of teardowns.reverse()) await fn()
  }
  try {
    for (const [host, agent] of cluster.agents) {
      const api = new ApiServer({ agent, log: silentLogger() }, { listen: '::1', port: 0 })
      await api.start()
      apis.set(host, api)
    }
    const agents = [...cluster.agents.values()]
    await waitFor(() => agents.every(a => a.view.live(Date.now()).length === agents.length), 20_000, 'every agent to see every member live')
    await waitFor(() => agents.every(a => agents.every(b => a.view.member(b.host)?.digest !== undefined)), 10_000, 'digests from every agent at every agent')
  } catch (err) {
    await close()
    throw err
  }
  return { cluster, apis, close }
}
