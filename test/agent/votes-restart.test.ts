/**
 * A voter restarted mid-round: the agent layer's real plan acceptance,
 * ballot and vote book over a real state directory, restarted as a crash
 * would (everything in memory gone, the state directory kept). It voted
 * for one plan; after the restart a lower rank's plan of the same round
 * arrives first. Before votes were kept on disk, it voted for that one too,
 * and two plans of the round could each count a majority.
 */
import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { access, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setImmediate as nextTurn } from 'node:timers/promises'
import { PlanAcceptance, type AcceptanceComponents } from '../../agent/acceptance.ts'
import { Ballot } from '../../agent/ballot.ts'
import { silentLogger } from '../../agent/log.ts'
import { RoundRecords } from '../../agent/round-records.ts'
import { VOTES_FILE, VoteBook } from '../../agent/vote-book.ts'
import { defaultTiming, planDeadlineMs } from '../../lib/rounds.ts'
import type { Envelope, EventMessage } from '../../lib/wire/messages.ts'

const timing = defaultTiming(30_000)
const ROUND = 1000

interface Voter { acceptance: PlanAcceptance, ballot: Ballot, votes: VoteBook }

async function members (n: number): Promise<Array<{ host: string, peerId: string }>> {
  return await Promise.all(Array.from({ length: n }, async (_, i) => ({ host: `h${i}`, peerId: peerIdFromPrivateKey(await generateKeyPair('Ed25519')).toString() })))
}

/** One incarnation of host `host`'s agent layer: everything in memory is new, the state directory is `dir`. */
async function startVoter (host: string, dir: string, live: Array<{ host: string, peerId: string }>, acks: EventMessage[], voteDelayMs = 0): Promise<Voter> {
  const votes = new VoteBook(dir)
  await votes.start()
  const ballot = new Ballot({ cluster: 'c', timing })
  const log = silentLogger()
  const components: AcceptanceComponents = {
    // Only what acceptance asks of them: who is live (ranking), how many members (the majority).
    cluster: { liveMembers: () => live, view: { members: () => live } } as unknown as AcceptanceComponents['cluster'],
    controls: { planFinal: () => false } as unknown as AcceptanceComponents['controls'],
    ballot,
    records: new RoundRecords(log),
    votes,
    voteDelayMs: () => voteDelayMs,
    log,
    counters: { votesUncounted: 0 },
    emit: () => {},
    publishEvent: async body => { acks.push(body) },
    execute: () => {}
  }
  return { acceptance: new PlanAcceptance(components, { host, timing }), ballot, votes }
}

function plan (planner: string, rank: number, seq: number): Envelope<'plan'> {
  return { v: 1, topic: 'plan', host: planner, round: ROUND, seq, body: { rank, planner, inputs: {}, initialCost: 10, finalCost: 5, moves: [] } }
}

/** Another member's plan, in its slot, taken by `voter` (which then votes for it); returns its planner. */
function acceptOthersPlan (voter: Voter, live: Array<{ host: string, peerId: string }>): string {
  const ranking = voter.ballot.ranking(ROUND, live, planDeadlineMs(ROUND, 0, timing))
  const planner = ranking.find(h => h !== 'h0')!
  const k = ranking.indexOf(planner)
  voter.acceptance.onPlan(plan(planner, k, 1), planDeadlineMs(ROUND, k, timing) + 10)
  return planner
}

/**
 * Lets a vote's write and send finish: they follow the acceptance
 * asynchronously. Waits on the write itself (a fixed sleep flaked on a busy
 * CI machine), then one turn of the event loop for the send that follows it.
 */
async function settle (voter: Voter): Promise<void> {
  await voter.votes.idle()
  await nextTurn()
}

test('a voter restarted mid-round does not vote for a second plan of the round; it may repeat its vote for the first', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htvotes-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const live = await members(5)
  const acks: EventMessage[] = []
  const before = await startVoter('h0', dir, live, acks)
  const at = planDeadlineMs(ROUND, 0, timing)
  const ranking = before.ballot.ranking(ROUND, live, at)
  // Two planners other than the voter: the lower ranked (`low`, rank i) and one behind it (`high`, rank j > i).
  const others = ranking.filter(h => h !== 'h0')
  const low = others[0]!
  const high = others[1]!
  const j = ranking.indexOf(high)
  const i = ranking.indexOf(low)
  const inSlotJ = planDeadlineMs(ROUND, j, timing) + 10

  // Rank j's plan arrives first (rank i's is late): the voter takes it and votes.
  t.true(before.acceptance.check(plan(high, j, 1), inSlotJ).ok)
  before.acceptance.onPlan(plan(high, j, 1), inSlotJ)
  await settle(before)
  t.deepEqual(acks, [{ kind: 'plan-ack', round: ROUND, planner: high }])

  // The voter crashes and restarts within the round.
  const after = await startVoter('h0', dir, live, acks)
  after.ballot.ranking(ROUND, live, at)
  // Rank i's plan arrives now: the new incarnation accepts it (a lower rank wins) but must not vote for it.
  after.acceptance.onPlan(plan(low, i, 2), inSlotJ + 1)
  await settle(after)
  t.is(after.ballot.accepted(ROUND)?.planner, low, 'the lower rank\'s plan is accepted')
  t.deepEqual(acks.map(a => a.planner), [high], `one vote in round ${ROUND}, for ${high} (ranks ${i} and ${j})`)
  t.is(after.ballot.acked(ROUND, low), 0, 'the restarted voter counts no vote of its own for the second plan')

  // Another restart, and the plan it voted for comes again: it may say its vote again, for that plan only.
  const again = await startVoter('h0', dir, live, acks)
  again.ballot.ranking(ROUND, live, at)
  again.acceptance.onPlan(plan(high, j, 3), inSlotJ + 2)
  await settle(again)
  t.deepEqual(acks.map(a => a.planner), [high, high])
  t.is(again.ballot.acked(ROUND, high), 1, 'its own vote counts again for the plan it voted for')
  t.deepEqual(JSON.parse(await readFile(join(dir, VOTES_FILE), 'utf8')), { version: 1, votes: { [ROUND]: high } }, 'the state directory holds the one vote')
})

test('a vote goes out only once it is on disk: when the vote cannot be written, none is sent', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htvotes-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const live = await members(3)
  const acks: EventMessage[] = []
  const voter = await startVoter('h0', dir, live, acks)
  // The state directory turns into a plain file once the voter has loaded:
  // every write under it fails from now on (root ignores permissions).
  await rm(dir, { recursive: true, force: true })
  await writeFile(dir, 'not a directory')
  const planner = acceptOthersPlan(voter, live)
  await settle(voter)
  t.is(voter.ballot.accepted(ROUND)?.planner, planner)
  t.deepEqual(acks, [], 'no vote sent')
})

test('a vote waits its delay before it is written and sent; stopped before then, it is neither', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htvotes-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const live = await members(3)
  const acks: EventMessage[] = []
  // Long enough that nothing below could be its end: the checks run at once, then at the write.
  const delayMs = 60_000
  const voter = await startVoter('h0', dir, live, acks, delayMs)
  const planner = acceptOthersPlan(voter, live)
  await nextTurn()
  t.is(voter.ballot.accepted(ROUND)?.planner, planner, 'the plan is taken at once')
  t.is(voter.votes.votedFor(ROUND), planner, 'the vote counts as given at once: no second vote of the round')
  t.deepEqual(acks, [], 'not sent during its delay')
  await t.throwsAsync(access(join(dir, VOTES_FILE)), { code: 'ENOENT' }, 'not written during its delay')
  await voter.votes.stop()
  await nextTurn()
  t.deepEqual(acks, [], 'not sent after a stop')
  await t.throwsAsync(access(join(dir, VOTES_FILE)), { code: 'ENOENT' }, 'not written after a stop')
})

test('a delayed vote is written, then sent, once its delay is over', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htvotes-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const live = await members(3)
  const acks: EventMessage[] = []
  const voter = await startVoter('h0', dir, live, acks, 20)
  const planner = acceptOthersPlan(voter, live)
  // Waits on the write itself (settle), whatever the machine's load.
  await settle(voter)
  t.deepEqual(acks, [{ kind: 'plan-ack', round: ROUND, planner }])
  t.deepEqual(JSON.parse(await readFile(join(dir, VOTES_FILE), 'utf8')), { version: 1, votes: { [ROUND]: planner } })
})
