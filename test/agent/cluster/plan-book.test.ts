/**
 * agent/cluster/tiered/plan-book.ts: what an aggregator's hosts must hear
 * of a round's plan. The items are opaque to it; envelopes say what they are.
 */
import test from 'ava'
import { PlanBook } from '../../../agent/cluster/tiered/plan-book.ts'
import type { Envelope } from '../../../lib/wire/messages.ts'
import type { SignedItem } from '../../../lib/wire/relay.ts'

const ROUND = 7
const item = (n: number): SignedItem => ({ e: new Uint8Array([n]), s: new Uint8Array(64) })
const plan: Envelope<'plan'> = { v: 1, topic: 'plan', host: 'p', round: ROUND, seq: 1, body: { rank: 0, planner: 'p', inputs: {}, initialCost: 10, finalCost: 5, moves: [{ vm: 'v1', from: 'h1', to: 'h2', cost: 1 }] } }
const vote = (host: string): Envelope<'event'> => ({ v: 1, topic: 'event', host, round: ROUND, seq: 2, body: { kind: 'plan-ack', round: ROUND, planner: 'p' } } as Envelope<'event'>)

test('a plan goes to every client but its planner; with 5 members, its votes go to the movers at the third counted vote, once', t => {
  const book = new PlanBook(5, host => host !== 'stale')
  const clients = ['p', 'h1', 'h2', 'h3']
  t.deepEqual(book.track(plan, item(0), clients), [{ hosts: ['h1', 'h2', 'h3'], items: [item(0)] }])
  t.deepEqual(book.track(vote('h1'), item(1), clients), [])
  t.deepEqual(book.track(vote('stale'), item(9), clients), [], 'a vote that does not count')
  t.deepEqual(book.track(vote('h1'), item(1), clients), [], 'the same voter twice')
  t.deepEqual(book.track(vote('h2'), item(2), clients), [])
  t.deepEqual(book.track(vote('h3'), item(3), clients), [{ hosts: ['h1', 'h2'], items: [item(0), item(1), item(2), item(3)] }])
  t.deepEqual(book.track(vote('p'), item(4), clients), [], 'told once')
})

test('votes that overtook their plan wait for it', t => {
  const book = new PlanBook(3, () => true)
  const clients = ['h1', 'h2']
  t.deepEqual(book.track(vote('h1'), item(1), clients), [])
  t.deepEqual(book.track(vote('h2'), item(2), clients), [])
  t.deepEqual(book.track(plan, item(0), clients), [
    { hosts: ['h1', 'h2'], items: [item(0)] },
    { hosts: ['h1', 'h2'], items: [item(0), item(1), item(2)] }
  ])
})
