import test from 'ava'
import { checkInvariants, pingPongs, splitRounds, type AgentRound } from '../../lib/invariants.ts'

const cap = new Map([['h1', { memoryMiB: 2048, vcpus: 2 }], ['h2', { memoryMiB: 2048, vcpus: 2 }]])
const vm = (vmId: string, host: string, memoryMiB = 1024): { vm: string, host: string, memoryMiB: number, vcpus: number } => ({ vm: vmId, host, memoryMiB, vcpus: 1 })

test('a sound cluster has no violations', t => {
  t.deepEqual(checkInvariants({ vms: new Set(['a', 'b']), placed: [vm('a', 'h1'), vm('b', 'h2')], capacity: cap, rounds: [] }), [])
})

test('each invariant is caught: lost, doubled, overfull, moved twice, moved by another host', t => {
  const rounds: AgentRound[] = [
    { host: 'h1', round: 5, planner: 'h1', acted: true, moves: [{ vm: 'a', from: 'h1', to: 'h2', ok: true }] },
    { host: 'h2', round: 5, planner: 'h1', acted: true, moves: [{ vm: 'a', from: 'h1', to: 'h2', ok: true }] }
  ]
  const v = checkInvariants({ vms: new Set(['a', 'b', 'c']), placed: [vm('a', 'h1'), vm('a', 'h2'), vm('b', 'h2', 1500)], capacity: cap, rounds })
  t.deepEqual(v.map(x => x.invariant).sort(), [1, 1, 2, 3, 4])
  t.true(v.some(x => x.detail === 'a runs on h1 and h2'))
  t.true(v.some(x => x.detail === 'c runs on no host'))
})

test('split rounds and ping-pong moves are counted', t => {
  const rounds: AgentRound[] = [
    { host: 'h1', round: 1, planner: 'h1', acted: true, moves: [{ vm: 'a', from: 'h1', to: 'h2', ok: true }] },
    { host: 'h2', round: 1, planner: 'h2', acted: true, moves: [] },
    { host: 'h2', round: 3, planner: 'h2', acted: true, moves: [{ vm: 'a', from: 'h2', to: 'h1', ok: true }] },
    { host: 'h1', round: 9, planner: 'h2', acted: false, moves: [] }
  ]
  t.deepEqual(splitRounds(rounds), [1])
  t.deepEqual(pingPongs(rounds, 5), [{ vm: 'a', round: 3 }])
  t.deepEqual(pingPongs(rounds, 1), [])
})
