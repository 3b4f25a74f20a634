import test from 'ava'
import { ReservationBook } from '../../../agent/reservations.ts'
import { silentLogger } from '../../../agent/log.ts'
import type { HypervisorDriver, MigrationTarget, VmInfo } from '../../../agent/drivers/types.ts'

/** A hypervisor that runs `running` and records incoming slots (the book's only collaborator). */
function driver (running: VmInfo[]): HypervisorDriver & { incoming: string[], cancelled: string[] } {
  const incoming: string[] = []; const cancelled: string[] = []
  return {
    name: 'test',
    incoming,
    cancelled,
    async start () {},
    async stop () {},
    async list () { return running },
    async prepareIncoming (vm: VmInfo): Promise<MigrationTarget> { incoming.push(vm.id); return { address: 'fd00::9', uri: 'test' } },
    async cancelIncoming (id: string) { cancelled.push(id) },
    async migrate () { throw new Error('not used') }
  }
}

const vm = (id: string, memoryMiB = 1024): VmInfo => ({ id, status: 'running', memoryMiB, vcpus: 1, addresses: [] })

function book (d: HypervisorDriver, planned: (round: number, vmId: string, from: string) => boolean = () => true): ReservationBook {
  return new ReservationBook(d, { capacity: { memoryMiB: 2048, vcpus: 4 }, leaving: () => false, planned, now: () => 0 }, 60_000, silentLogger())
}

test('admits a planned move with room, refuses one without room or outside the plan', async t => {
  const d = driver([vm('here', 1024)])
  const b = book(d, (_round, id) => id !== 'stranger')
  t.like(await b.reserve('h1', 1, vm('a', 1024)), { ok: true })
  t.like(await b.reserve('h1', 1, vm('b', 512)), { ok: false, reason: 'no-room' })
  t.like(await b.reserve('h1', 1, vm('stranger', 1)), { ok: false, reason: 'not-in-plan' })
  await b.stop()
})

test('another source cannot take a reserved VM; its own source asking again replaces its reservation', async t => {
  const d = driver([])
  const b = book(d)
  t.like(await b.reserve('h1', 1, vm('a')), { ok: true })
  t.like(await b.reserve('h2', 1, vm('a')), { ok: false, reason: 'busy' })
  // h1 restarted mid-migration and asks again: the old slot is cancelled, a new one made.
  t.like(await b.reserve('h1', 2, vm('a')), { ok: true })
  t.deepEqual(d.cancelled, ['a'])
  t.deepEqual(d.incoming, ['a', 'a'])
  t.is(b.size, 1)
  t.like(await b.commit('h1', 'a'), { ok: true })
  t.is(b.size, 0)
  await b.stop()
})

/** The book's side of a hand-over driver (QEMU): commit starts the arrived copy. */
function handOverDriver (): ReturnType<typeof driver> & { started: string[], failNext: boolean } {
  const running: VmInfo[] = []
  const d = driver(running)
  const started: string[] = []
  const out = Object.assign(d, {
    started,
    failNext: false,
    async finishIncoming (id: string) {
      if (out.failNext) { out.failNext = false; throw new Error('monitor did not answer') }
      started.push(id)
      running.push(vm(id))
    }
  })
  return out
}

test('commit starts the arrived copy; asked again after a lost answer it is the same yes', async t => {
  const d = handOverDriver()
  const b = book(d)
  t.like(await b.reserve('h1', 1, vm('a')), { ok: true })
  t.like(await b.commit('h1', 'a'), { ok: true })
  t.deepEqual(d.started, ['a'])
  // The answer was lost on the WAN and the source asks again: the VM runs here, so yes, and it is not started twice.
  t.like(await b.commit('h1', 'a'), { ok: true })
  t.deepEqual(d.started, ['a'])
  t.deepEqual(d.cancelled, [])
})

test('a commit the hypervisor cannot carry out keeps the reservation; a commit for a copy that was dropped is unknown-reservation', async t => {
  const d = handOverDriver()
  const b = book(d)
  t.like(await b.reserve('h1', 1, vm('a')), { ok: true })
  d.failNext = true
  t.like(await b.commit('h1', 'a'), { ok: false, reason: 'busy' })
  t.is(b.size, 1, 'kept: the source asks again')
  t.like(await b.commit('h1', 'a'), { ok: true })
  // A copy the target dropped (cancelled here; the same for an expiry): the source must resume its own.
  t.like(await b.reserve('h1', 2, vm('b')), { ok: true })
  t.like(await b.cancel('h1', 'b'), { ok: true })
  t.like(await b.commit('h1', 'b'), { ok: false, reason: 'unknown-reservation' })
  t.deepEqual(d.started, ['a'])
})

test('a drain set while the hypervisor prepares the incoming slot wins: the slot is cancelled and the move refused', async t => {
  let draining = false
  const d = driver([])
  const prepare = d.prepareIncoming.bind(d)
  // The drain lands during the hypervisor's await, after the first leaving check.
  d.prepareIncoming = async (v: VmInfo) => { const target = await prepare(v); draining = true; return target }
  const b = new ReservationBook(d, { capacity: { memoryMiB: 2048, vcpus: 4 }, leaving: () => draining, planned: () => true, now: () => 0 }, 60_000, silentLogger())
  t.like(await b.reserve('h1', 1, vm('a')), { ok: false, reason: 'leaving' })
  t.deepEqual(d.cancelled, ['a'])
  t.is(b.size, 0)
  await b.stop()
})
