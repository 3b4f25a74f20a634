import test from 'ava'
import { RoundBook } from '../../lab/chaos/round-book.ts'
import type { RoundsResponse } from '../../agent/api/types.ts'
import { defaultTiming } from '../../lib/rounds.ts'

const timing = defaultTiming(4000)
const ts = (round: number, into = 0): string => new Date(round * 4000 + into).toISOString()
const line = (o: Record<string, unknown>): string => JSON.stringify(o)

function rounds (host: string, list: Array<Partial<RoundsResponse['rounds'][number]> & { round: number }>): RoundsResponse {
  return { host, current: 0, rounds: list.map(r => ({ ranking: [], plannedHere: false, moves: [], outcomes: [], ...r })) }
}

test('a move logged by an agent lands in the round the API recorded it in', t => {
  const b = new RoundBook(timing)
  b.addApi(rounds('h1', [{ round: 100, planner: 'h2', acted: true, outcomes: [{ vm: 'a', from: 'h1', to: 'h3', ok: true }] }]))
  // Logged in the next round (the move finished late).
  b.addLogLine('h1', line({ ts: ts(101, 500), msg: 'migrated', vm: 'a', from: 'h1', to: 'h3', totalMs: 40 }))
  const r = b.rounds()
  t.deepEqual(r, [{ host: 'h1', round: 100, planner: 'h2', acted: true, moves: [{ vm: 'a', from: 'h1', to: 'h3', ok: true }] }])
})

test('a killed agent\'s last move, never seen by the API, goes to the round whose plan held it', t => {
  const b = new RoundBook(timing)
  b.addLogLine('h1', line({ ts: ts(200, 3000), msg: 'round', round: 200, planner: 'h2', rank: 0, moves: ['a:h1->h3'], action: 'migrating' }))
  b.addLogLine('h1', line({ ts: ts(201, 100), msg: 'migration failed', vm: 'a', from: 'h1', to: 'h3', totalMs: 5, error: 'x' }))
  t.deepEqual(b.rounds(), [{ host: 'h1', round: 200, planner: 'h2', acted: true, moves: [{ vm: 'a', from: 'h1', to: 'h3', ok: false }] }])
})

test('the planner an agent acted on (its log) wins over a later /rounds answer', t => {
  const b = new RoundBook(timing)
  b.addLogLine('h1', line({ ts: ts(300, 2000), msg: 'round', round: 300, planner: 'h2', moves: [], action: 'nothing to move' }))
  b.addApi(rounds('h1', [{ round: 300, planner: 'h4', acted: true }]))
  t.is(b.rounds()[0]!.planner, 'h2')
})

test('a round without a final plan is not acted on', t => {
  const b = new RoundBook(timing)
  b.addLogLine('h1', line({ ts: ts(400, 100), msg: 'round', round: 399, moves: [], action: 'no plan' }))
  b.addApi(rounds('h1', [{ round: 400, planner: 'h2', acted: false }]))
  t.deepEqual(b.rounds(), [{ host: 'h1', round: 400, planner: 'h2', acted: false, moves: [] }])
})
