/**
 * The lab's own truth, asked of the kernel, never of the agents: where each
 * VM runs (which host namespace holds its vif) and whether it is wired there
 * (the vif on the host's bridge, the router's host route to the host's DC).
 */
import { ip } from '../drivers/lab-host/exec.ts'
import { HOST_BRIDGE } from '../drivers/lab-host/fabric.ts'
import type { LabState, LabVmRecord } from '../drivers/lab-host/state.ts'
import type { Placed } from '../../lib/invariants.ts'
import { locateVms } from '../run/placement.ts'

/** One entry per VM per host whose namespace holds its vif (as checkInvariants takes it). */
export async function placedVms (state: LabState, records: readonly LabVmRecord[]): Promise<Placed[]> {
  const where = await locateVms(state, records)
  return records.flatMap(r => (where.get(r.id) ?? []).map(host => ({ vm: r.id, host, memoryMiB: r.memoryMiB, vcpus: r.vcpus })))
}

/** What is wrong with the VM's wiring at `host` ([] when it is reachable there). */
export async function wiringProblems (state: LabState, rec: LabVmRecord, host: string): Promise<string[]> {
  const h = state.hosts[host]
  if (h === undefined) return [`no host ${host}`]
  const problems: string[] = []
  let text: string
  try {
    text = await ip(h.ns, '-j', 'link', 'show', 'dev', rec.vif)
  } catch (err) {
    // Located a moment ago, gone now: a migration moved it meanwhile. A
    // problem for this look (the caller looks again), not a failed run.
    if (/does not exist/.test((err as Error).message)) return [`${rec.vif} left ${host} while it was checked (a move under way)`]
    throw err
  }
  const links = JSON.parse(text) as Array<{ master?: string, flags?: string[] }>
  const link = links[0]
  if (link?.master !== HOST_BRIDGE) problems.push(`${rec.vif} is not on ${host}'s ${HOST_BRIDGE} (master ${String(link?.master)})`)
  if (link?.flags?.includes('UP') !== true) problems.push(`${rec.vif} is down at ${host}`)
  for (const a of rec.addresses) {
    const routes = JSON.parse(await ip(state.routerNs, '-j', '-6', 'route', 'show', `${a}/128`)) as Array<{ dev?: string }>
    if (routes[0]?.dev !== h.dcBridge) problems.push(`the router routes ${a} via ${String(routes[0]?.dev)}, not ${h.dcBridge}`)
  }
  return problems
}
