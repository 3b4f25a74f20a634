import test from 'ava'
import { handOver, type HandOverContext } from '../../agent/hand-over.ts'
import type { MigrateRequest, MigrateResponse } from '../../agent/migrate-protocol.ts'

/** A target that answers from a script (an Error is a lost request), and a clock that moves a second per try. */
function context (script: Array<MigrateResponse | Error>, opts: { stopping?: boolean } = {}): HandOverContext & { asked: MigrateRequest[] } {
  let clock = 0
  const asked: MigrateRequest[] = []
  return {
    asked,
    now: () => clock,
    stopping: () => opts.stopping === true,
    retryMs: 1,
    windowMs: 10,
    ask: async (_host, req) => {
      asked.push(req)
      clock += 1
      const next = script.shift() ?? new Error('no route to host')
      if (next instanceof Error) throw next
      return next
    }
  }
}

test('asks until the target answers: lost requests and a busy target are asked again', async t => {
  const c = context([new Error('stream reset'), { ok: false, reason: 'busy', detail: 'monitor slow' }, { ok: true }])
  t.is(await handOver(c, 'b1', 7, 'vm1'), 'started')
  t.deepEqual(c.asked, Array(3).fill({ op: 'commit', round: 7, vmId: 'vm1' }))
})

test('a target that dropped its copy is a refusal: the source resumes its own', async t => {
  const c = context([new Error('timeout'), { ok: false, reason: 'unknown-reservation', detail: 'no reservation' }])
  t.is(await handOver(c, 'b1', 7, 'vm1'), 'refused')
})

test('no answer within the window is unknown, and a stopping agent tries once', async t => {
  const cut = context([])
  t.is(await handOver(cut, 'b1', 7, 'vm1'), 'unknown')
  t.true(cut.asked.length >= 5 && cut.asked.length <= 10, `${cut.asked.length} tries in a 10-try window`)
  const stopping = context([], { stopping: true })
  t.is(await handOver(stopping, 'b1', 7, 'vm1'), 'unknown')
  t.is(stopping.asked.length, 1)
})
