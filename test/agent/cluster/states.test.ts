import test from 'ava'
import { defaultTiming } from '../../../lib/rounds.ts'
import type { ReplicatedView } from '../../../lib/view.ts'
import type { Envelope, HostState } from '../../../lib/wire/messages.ts'
import type { Outbox } from '../../../agent/cluster/outbox.ts'
import { HostStates } from '../../../agent/cluster/states.ts'
import type { AgentConfig } from '../../../agent/config.ts'
import { newCounters } from '../../../agent/counters.ts'
import type { HypervisorDriver, TrafficCollector, VmInfo } from '../../../agent/drivers/types.ts'
import { silentLogger } from '../../../agent/log.ts'
import type { ClusterNode } from '../../../agent/net/index.ts'

/** HostStates over a fake hypervisor and outbox: what it sends, and when. */
function setup (): { states: HostStates, sent: Array<Envelope<'host'>>, vms: VmInfo[], clock: { now: number } } {
  const timing = defaultTiming(2000)
  const clock = { now: 1_000_000 }
  const vms: VmInfo[] = [{ id: 'vm1', status: 'running', memoryMiB: 1024, vcpus: 1, addresses: ['fd00::1'] }]
  const sent: Array<Envelope<'host'>> = []
  const outbox = {
    envelope: (topic: 'host', round: number, body: HostState) => ({ v: 1, topic, host: 'h1', round, seq: sent.length, body }),
    send: async (env: Envelope<'host'>) => { sent.push(env) }
  } as unknown as Outbox
  const states = new HostStates({
    host: 'h1',
    // The parts HostStates never touches.
    node: {} as unknown as ClusterNode,
    view: {} as unknown as ReplicatedView,
    timing,
    log: silentLogger(),
    now: () => clock.now,
    emit: () => {},
    counters: newCounters(),
    hypervisor: { list: async () => vms } as unknown as HypervisorDriver,
    collector: {} as unknown as TrafficCollector,
    outbox,
    local: { draining: () => false, pinned: () => false, migrating: () => false },
    leaving: () => false,
    round: () => 7,
    topology: { hash: 'abc', advertised: undefined }
  }, { config: { dc: 'dc1', capacity: { memoryMiB: 4096, vcpus: 4 }, address: 'fd00::100' } as unknown as AgentConfig, membersHash: 'm' })
  return { states, sent, vms, clock }
}

test('a state goes out on change only when asked so, and a hello says hello', async t => {
  const { states, sent, vms } = setup()
  t.true(await states.publish({ hello: true }))
  t.is(sent[0]!.body.hello, true)
  t.false(await states.publish({ onlyIfChanged: true }), 'unchanged: not sent again')
  vms.push({ id: 'vm2', status: 'running', memoryMiB: 512, vcpus: 1, addresses: [] })
  t.true(await states.publish({ onlyIfChanged: true }), 'changed: sent')
  t.deepEqual(sent[1]!.body.vms.map(v => v.id), ['vm1', 'vm2'])
  t.is(sent[1]!.body.hello, undefined)
  t.is(sent[1]!.round, 7)
})

test('hellos are answered once, at a per-host offset within a takeover slot, and at most once per slot', async t => {
  const { states, sent, clock } = setup()
  const slot = defaultTiming(2000).takeoverMs
  states.answerHello('h2', clock.now)
  states.answerHello('h3', clock.now)
  await states.publishIfDue(clock.now + slot)
  t.is(sent.length, 1, 'one answer for both hellos')
  states.resendSoon(clock.now + slot)
  await states.publishIfDue(clock.now + slot + 1)
  t.is(sent.length, 1, 'not twice in one slot')
  await states.publishIfDue(clock.now + 2 * slot)
  t.is(sent.length, 2, 'the resend goes out in the next slot')
})
