/**
 * Gossip with validation before delivery and forwarding. gossipsub runs with
 * asyncValidation, so every received message waits in its cache until the
 * application's validator answers; only accepted messages reach the handler
 * and go on to other peers. Rejected ones also lower the sender's score.
 *
 * Listen through subscribeTopic, not the raw 'message' event of gossipsub:
 * that event fires before validation.
 */
import { TopicValidatorResult } from '@libp2p/gossipsub'
import { MessageTooLargeError } from './errors.ts'
import type { ClusterNode } from './node.ts'
import type { GossipsubMessage } from '@libp2p/gossipsub'

export type Verdict = 'accept' | 'reject' | 'ignore'

/** A received, signed gossip message. */
export interface GossipMessage {
  topic: string
  data: Uint8Array
  /** Author (verified signature), as a peer id string. */
  from: string
  /** Author's sequence number. */
  seqno: bigint
  /** The neighbour that passed it on to us. */
  via: string
  msgId: string
}

export interface TopicHandlers {
  /**
   * Decides whether a message is delivered and forwarded ('accept'), dropped
   * ('ignore': stale, duplicate), or dropped and held against the peer
   * ('reject': malformed, forged). A throw counts as 'reject'.
   */
  validate(msg: GossipMessage): Verdict | Promise<Verdict>
  /** Called for each accepted message. Exceptions are counted, not rethrown. */
  deliver(msg: GossipMessage): void
}

export interface TopicStats {
  accepted: number
  rejected: number
  ignored: number
  /** Validators or handlers that threw. */
  errors: number
}

export interface TopicSubscription {
  readonly topic: string
  readonly stats: Readonly<TopicStats>
  unsubscribe(): void
}

const VERDICTS: Record<Verdict, TopicValidatorResult> = {
  accept: TopicValidatorResult.Accept,
  reject: TopicValidatorResult.Reject,
  ignore: TopicValidatorResult.Ignore
}

// One handler per topic per node: two would both report a verdict.
const handled = new WeakMap<ClusterNode, Set<string>>()

/** Subscribes to `topic` with a validator and a handler. */
export function subscribeTopic (node: ClusterNode, topic: string, handlers: TopicHandlers): TopicSubscription {
  const topics = handled.get(node) ?? new Set<string>()
  if (topics.has(topic)) throw new Error(`topic ${topic} already has a handler on this node`)
  topics.add(topic)
  handled.set(node, topics)

  const pubsub = node.libp2p.services.pubsub
  const stats: TopicStats = { accepted: 0, rejected: 0, ignored: 0, errors: 0 }

  const onMessage = (evt: CustomEvent<GossipsubMessage>): void => {
    const { msg, msgId, propagationSource } = evt.detail
    if (msg.topic !== topic) return
    const via = propagationSource.toString()
    void (async () => {
      let verdict: Verdict = 'reject'
      let message: GossipMessage | undefined
      // StrictSign drops unsigned messages before us; this keeps the types honest.
      if (msg.type === 'signed') {
        message = { topic, data: msg.data, from: msg.from.toString(), seqno: msg.sequenceNumber, via, msgId }
        try {
          verdict = await handlers.validate(message)
        } catch {
          stats.errors++
          verdict = 'reject'
        }
      }
      pubsub.reportMessageValidationResult(msgId, via, VERDICTS[verdict])
      if (verdict === 'accept' && message !== undefined) {
        stats.accepted++
        try {
          handlers.deliver(message)
        } catch {
          stats.errors++
        }
      } else if (verdict === 'ignore') {
        stats.ignored++
      } else {
        stats.rejected++
      }
    })()
  }

  pubsub.addEventListener('gossipsub:message', onMessage)
  pubsub.subscribe(topic)
  return {
    topic,
    stats,
    unsubscribe () {
      pubsub.removeEventListener('gossipsub:message', onMessage)
      pubsub.unsubscribe(topic)
      topics.delete(topic)
    }
  }
}

/**
 * Publishes `data` on `topic`; refuses bodies over the node's message bound.
 * Resolves with the peers it was sent to directly (0 when nobody subscribes:
 * see waitForTopicPeers).
 */
export async function publish (node: ClusterNode, topic: string, data: Uint8Array): Promise<string[]> {
  if (data.byteLength > node.maxMessageBytes) throw new MessageTooLargeError(data.byteLength, node.maxMessageBytes)
  const result = await node.libp2p.services.pubsub.publish(topic, data)
  return result.recipients.map(p => p.toString())
}
