/**
 * Chaos from outside the agent: what an agent sees of its libp2p node,
 * wrapped so a chaos run can lose its incoming gossip and cut its requests
 * off (a partition). The agent itself knows nothing of it; the daemon's
 * `wrapNode` start option puts the wrapper between them.
 *
 * Lost gossip goes through a gossipsub topic validator, which runs before
 * the agent's own: a lost message is ignored there as the agent would
 * ignore a stale one (no score penalty, not forwarded, remembered as seen),
 * and costs the agent's flood guard nothing. Requests fail at the dial, as
 * an unreachable host's do.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { isPeerId } from '@libp2p/interface'
import { TOPICS } from '../../lib/wire/messages.ts'
import type { ClusterNode } from '../../agent/net/index.ts'
import type { Libp2p } from '@libp2p/interface'

/** What a chaos run does to one agent's communication. */
export interface NodeFaults {
  /** True to lose this incoming gossip message (by topic and author peer id). */
  dropGossip (topic: string, fromPeer: string): boolean
  /** The host behind `peer` when requests to it cannot get through (a partition); undefined when they can. */
  cutOff (peer: string): string | undefined
}

/** Wraps `node` so `faults` decide which gossip is lost and which requests fail. */
export function faultyNode (node: ClusterNode, faults: NodeFaults): ClusterNode {
  const pubsub = node.libp2p.services.pubsub
  for (const name of TOPICS) {
    const topic = node.topic(name)
    pubsub.topicValidators.set(topic, (_via, msg) =>
      msg.type === 'signed' && faults.dropGossip(topic, msg.from.toString()) ? TopicValidatorResult.Ignore : TopicValidatorResult.Accept)
  }
  const dialProtocol: Libp2p['dialProtocol'] = async (peer, protocols, options) => {
    const host = isPeerId(peer) ? faults.cutOff(peer.toString()) : undefined
    if (host !== undefined) throw new Error(`no route to ${host}`)
    return await node.libp2p.dialProtocol(peer, protocols, options)
  }
  // libp2p keeps private fields: its methods must run on the real object.
  const libp2p = new Proxy(node.libp2p, {
    get (target, prop) {
      if (prop === 'dialProtocol') return dialProtocol
      const value: unknown = Reflect.get(target, prop, target)
      return typeof value === 'function' ? value.bind(target) : value
    }
  })
  return { ...node, libp2p }
}
