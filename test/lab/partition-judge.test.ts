import test from 'ava'
import type { AgentRound } from '../../lib/invariants.ts'
import { firstAgreedRound, isMinority, judgePartition } from '../../lab/chaos/partition.ts'

const members = ['a', 'b', 'c', 'd']
const r = (host: string, round: number, planner?: string, acted = false): AgentRound => ({ host, round, acted, moves: [], ...(planner !== undefined ? { planner } : {}) })

test('a side is a minority unless it holds a strict majority: 2 of 4 is one, 3 of 4 is not', t => {
  t.true(isMinority(['a', 'b'], members))
  t.true(isMinority(['d'], members))
  t.false(isMinority(['a', 'b', 'c'], members))
})

test('3 against 1: the lone host planning after it noticed the split is caught, before it is not judged; the majority rounds are counted', t => {
  const p = { sides: [['a', 'b', 'c'], ['d']], members }
  const rounds = [
    // Round 10: the cut round; d still planned for itself (not judged).
    r('d', 10, 'd'),
    ...['a', 'b', 'c'].map(h => r(h, 12, 'b', true)),
    ...['a', 'b', 'c'].map(h => r(h, 13, 'c', true)),
    r('d', 13, 'd')
  ]
  const v = judgePartition(rounds, p, [10, 14], [12, 14])
  t.deepEqual(v.minorityPlans, ['d planned in round 13'])
  t.deepEqual(v.minorityActs, [])
  t.is(v.majorityRounds, 2)
})

test('2 against 2: neither side may plan or act; an act anywhere in the split is caught', t => {
  const p = { sides: [['a', 'b'], ['c', 'd']], members }
  const v = judgePartition([r('a', 11, 'x', true), r('c', 12)], p, [10, 14], [12, 14])
  t.deepEqual(v.minorityPlans, [])
  t.deepEqual(v.minorityActs, ['a acted in round 11'])
  t.is(v.majorityRounds, 0)
})

test('agreement after the heal: the first round every member accepted one plan', t => {
  const rounds = [...members.map(h => r(h, 20, h === 'd' ? undefined : 'a')), ...members.map(h => r(h, 21, 'b'))]
  t.is(firstAgreedRound(rounds, members, 20, 25), 21)
  t.is(firstAgreedRound(rounds, members, 22, 25), undefined)
})
