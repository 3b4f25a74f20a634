import test from 'ava'
import { keptVotes, VOTE_MEMORY_ROUNDS, voteDecision } from '../../lib/votes.ts'

test('one vote per round: a first vote is given, the same one again is harmless, another plan of the round is refused', t => {
  const votes = new Map([[10, 'b']])
  t.is(voteDecision(votes, 11, 'a'), 'vote')
  t.is(voteDecision(votes, 10, 'b'), 'again')
  t.is(voteDecision(votes, 10, 'a'), 'refuse')
})

test('votes of the last VOTE_MEMORY_ROUNDS rounds are kept, older ones dropped', t => {
  const votes = new Map([[100 - VOTE_MEMORY_ROUNDS, 'old'], [100 - VOTE_MEMORY_ROUNDS + 1, 'kept'], [100, 'new']])
  t.deepEqual([...keptVotes(votes, 100)], [[100 - VOTE_MEMORY_ROUNDS + 1, 'kept'], [100, 'new']])
})
