/**
 * The outbox once closed (a halt or stop of the cluster layer): the mark
 * being written is on disk when close resolves, nothing is written after,
 * and nothing is sent. A halted agent's last migration report used to
 * rename seq.json into a state directory the lab was removing.
 */
import test from 'ava'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Outbox } from '../../../agent/cluster/outbox.ts'
import { SeqStore } from '../../../agent/cluster/seq-store.ts'
import type { ClusterContext } from '../../../agent/cluster/types.ts'
import { silentLogger } from '../../../agent/log.ts'
import { SEQ_PER_MS, SEQ_RESERVE } from '../../../lib/sequence.ts'

async function withOutbox (run: (outbox: Outbox, store: SeqStore, sent: string[], clock: { ms: number }) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'heliotrope-outbox-'))
  try {
    const sent: string[] = []
    const clock = { ms: 1_000 }
    // Only what Outbox touches: the clock, the log, and the view and node the send path uses.
    const ctx = {
      host: 'h1',
      log: silentLogger(),
      now: () => clock.ms,
      view: { accept: () => undefined },
      node: { peerId: 'self' },
      counters: { published: 0 },
      emit: () => undefined
    } as unknown as ClusterContext
    const store = new SeqStore(dir)
    const outbox = new Outbox(ctx, store)
    outbox.through(async (env) => { sent.push(env.topic) })
    await outbox.load()
    await run(outbox, store, sent, clock)
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

test('close waits for the mark being written, and it is on disk after', async t => {
  await withOutbox(async (outbox, store) => {
    const env = outbox.envelope('event', 1, { kind: 'leave' })
    await outbox.close()
    const { reserved } = await store.load()
    t.true(reserved >= env.seq, `mark ${reserved} covers the number handed out (${env.seq})`)
  })
})

test('after close no mark is written and no message leaves', async t => {
  await withOutbox(async (outbox, store, sent, clock) => {
    const first = outbox.envelope('event', 1, { kind: 'leave' })
    await outbox.send(first)
    t.deepEqual(sent, ['event'])
    await outbox.close()
    const before = await readFile(store.path, 'utf8')
    // Past the stored reservation: an open outbox would write a new mark now.
    clock.ms += 2 * SEQ_RESERVE / SEQ_PER_MS
    const later = outbox.envelope('event', 1, { kind: 'leave' })
    t.true(later.seq > first.seq + SEQ_RESERVE)
    await t.throwsAsync(outbox.send(later), { message: /cluster layer is stopped/ })
    t.deepEqual(sent, ['event'], 'nothing sent after close')
    await outbox.close() // waits for a write, had one started
    t.is(await readFile(store.path, 'utf8'), before, 'no write after close')
  })
})
