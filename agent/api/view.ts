/** GET /view: the replicated view, member by member, with the WAN it implies. */
import type { Topology } from '../../lib/topology.ts'
import type { Agent } from '../agent.ts'
import { wanState } from './links.ts'
import type { MemberView, ViewResponse } from './types.ts'
import { definedOnly } from '../../lib/defined.ts'

export function buildView (agent: Agent, topology: Topology, nowMs: number): ViewResponse {
  const view = agent.view
  const members: MemberView[] = view.members().map(m => {
    const up = view.isUp(m.host, nowMs)
    const status: MemberView['status'] = !up ? 'down' : m.state?.draining === true ? 'draining' : m.state?.leaving === true ? 'leaving' : 'up'
    const heard = Number.isFinite(m.lastSeenMs)
    const s = m.state
    const out: MemberView = {
      host: m.host,
      peerId: m.peerId,
      self: m.host === agent.host,
      status,
      vms: (s?.vms ?? []).map(v => ({ id: v.id, memoryMiB: v.memoryMiB, vcpus: v.vcpus, pinned: v.pinned, migrating: v.migrating, addresses: v.addresses })),
      seq: { ...m.seq }
    }
    if (heard) { out.lastSeenMs = m.lastSeenMs; out.agoMs = Math.max(0, nowMs - m.lastSeenMs) }
    if (s !== undefined) {
      out.dc = s.dc
      out.capacity = { memoryMiB: s.memoryMiB, vcpus: s.vcpus }
      if (s.members !== undefined) out.membersHash = s.members
      out.sameMembers = view.agreesOnMembers(m.host)
      out.topology = { hash: s.topology, ...(s.staged !== undefined ? { staged: { hash: s.staged.topology, round: s.staged.round } } : {}) }
      out.used = { memoryMiB: s.vms.reduce((a, v) => a + v.memoryMiB, 0), vcpus: s.vms.reduce((a, v) => a + v.vcpus, 0) }
    }
    if (m.digest !== undefined) {
      out.digest = {
        windowMs: m.digest.windowMs,
        vms: m.digest.vms.map(v => ({
          vm: v.vm,
          outBps: v.peers.reduce((a, p) => a + p.out, 0) + v.restOut,
          inBps: v.peers.reduce((a, p) => a + p.in, 0),
          peers: v.peers,
          restOut: v.restOut
        }))
      }
    }
    return out
  })
  const wan = wanState(agent, topology, nowMs)
  const migrating = members.flatMap(m => m.vms.filter(v => v.migrating).map(v => ({ vm: v.id, host: m.host })))
  return {
    host: agent.host,
    nowMs,
    members,
    drops: { ...view.drops },
    ...definedOnly({ cost: wan?.cost }),
    links: wan?.links ?? [],
    migrating
  }
}
