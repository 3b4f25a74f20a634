import test from 'ava'
import { StateWaits } from '../../../agent/cluster/state-waits.ts'

test('a waiting digest goes on when its author\'s state arrives, not before', async t => {
  const waits = new StateWaits()
  let settled: boolean | undefined
  const p = waits.wait('h1', 5_000).then(v => { settled = v })
  waits.arrived('h2')
  await new Promise(resolve => setTimeout(resolve, 20))
  t.is(settled, undefined, 'another host\'s state does not release it')
  waits.arrived('h1')
  await p
  t.true(settled)
})

test('without a state it gives up after its time; beyond the bound per host it does not wait at all', async t => {
  const waits = new StateWaits(2)
  const started = Date.now()
  const a = waits.wait('h1', 50)
  const b = waits.wait('h1', 50)
  t.false(await waits.wait('h1', 50), 'a third waiter is refused at once')
  t.true(Date.now() - started < 40)
  t.deepEqual(await Promise.all([a, b]), [false, false])
  t.true(Date.now() - started >= 45)
  // Once they are gone, there is room again.
  const c = waits.wait('h1', 1_000)
  waits.arrived('h1')
  t.true(await c)
})

test('close releases every waiter as not arrived', async t => {
  const waits = new StateWaits()
  const all = Promise.all([waits.wait('h1', 10_000), waits.wait('h2', 10_000)])
  waits.close()
  t.deepEqual(await all, [false, false])
})
