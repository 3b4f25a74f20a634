/** lib/topology-switch.ts: the round every agent switches to a staged topology at, from the members' states alone. */
import test from 'ava'
import { SWITCH_AFTER_ROUNDS, switchRound, type MemberTopology } from '../../lib/topology-switch.ts'

const staged = (host: string, round: number, topology = 'NEW'): MemberTopology => ({ host, running: 'OLD', staged: { topology, round } })

test('every member staged: the latest staging round plus SWITCH_AFTER_ROUNDS, whatever the order the members come in', t => {
  const members = [staged('a', 100), staged('b', 101), staged('c', 103), staged('d', 102)]
  const expected = { kind: 'switch', hash: 'NEW', round: 103 + SWITCH_AFTER_ROUNDS }
  t.deepEqual(switchRound('NEW', members), expected)
  // Every order of the four: each agent lists its view in its own order.
  const orders = (xs: MemberTopology[]): MemberTopology[][] => xs.length <= 1 ? [xs] : xs.flatMap((x, i) => orders([...xs.slice(0, i), ...xs.slice(i + 1)]).map(rest => [x, ...rest]))
  for (const o of orders(members)) t.deepEqual(switchRound('NEW', o), expected)
})

test('a member that has not staged blocks the switch and is named; one that staged another topology too', t => {
  t.deepEqual(switchRound('NEW', [staged('a', 100), { host: 'c', running: 'OLD' }, staged('b', 101)]), { kind: 'waiting', hash: 'NEW', missing: ['c'] })
  t.deepEqual(switchRound('NEW', [staged('b', 100, 'OTHER'), staged('a', 100), { host: 'c', running: 'OLD' }]), { kind: 'waiting', hash: 'NEW', missing: ['b', 'c'] })
})

test('a member already running the new topology counts as ready and adds no round', t => {
  t.deepEqual(switchRound('NEW', [staged('a', 100), { host: 'b', running: 'NEW' }, staged('c', 101)]), { kind: 'switch', hash: 'NEW', round: 101 + SWITCH_AFTER_ROUNDS })
  // Also with a staged field of its own left over (it switched, or restarted onto the file, and staged nothing since).
  t.deepEqual(switchRound('NEW', [staged('a', 100), { host: 'b', running: 'NEW', staged: { topology: 'NEWER', round: 500 } }]), { kind: 'switch', hash: 'NEW', round: 100 + SWITCH_AFTER_ROUNDS })
  // One that switched still says the staging it switched on: its round counts, so an agent hearing of it late computes the same round.
  t.deepEqual(switchRound('NEW', [staged('a', 100), { host: 'b', running: 'NEW', staged: { topology: 'NEW', round: 103 } }]), { kind: 'switch', hash: 'NEW', round: 103 + SWITCH_AFTER_ROUNDS })
  // Everyone else switched already (this agent saw the last staging late): the round is past, switch now.
  const late = switchRound('NEW', [staged('a', 100), { host: 'b', running: 'NEW' }])
  t.like(late, { kind: 'switch', round: 102 })
  const alone = switchRound('NEW', [{ host: 'b', running: 'NEW' }])
  t.true(alone.kind === 'switch' && alone.round === -Infinity, 'nobody left to wait for: at once')
})
