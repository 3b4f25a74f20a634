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
  t.like(b.commit('h1', 'a'), { ok: true })
  t.is(b.size, 0)
  await b.stop()
})
