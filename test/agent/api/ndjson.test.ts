/**
 * The NDJSON stages the API client pipes the /events response through:
 * lines across chunk boundaries, blank lines skipped, and closing the end of
 * the pipe closes the source (how an abort or a `break` ends the response).
 */
import test from 'ava'
import { pipe } from 'it-pipe'
import { parseJsonLines, splitLines } from '../../../agent/api/ndjson.ts'

async function * chunks (parts: string[], closed: { done: boolean } = { done: false }): AsyncGenerator<string> {
  try {
    for (const p of parts) yield p
  } finally {
    closed.done = true
  }
}

async function collect<T> (source: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const v of source) out.push(v)
  return out
}

test('lines are split across chunk boundaries; an unfinished last line is dropped', async t => {
  t.deepEqual(await collect(splitLines(chunks(['a', 'b\nc', '\n\nd\ne', 'f']))), ['ab', 'c', '', 'd'])
})

test('values are parsed per line, blank lines skipped', async t => {
  const got = await collect(pipe(chunks(['{"type":"hello"', '}\n  \n{"n":', '2}\n']), splitLines, parseJsonLines<object>))
  t.deepEqual(got, [{ type: 'hello' }, { n: 2 }])
})

test('a line that is not JSON throws', async t => {
  await t.throwsAsync(collect(pipe(chunks(['{"a":1}\n', 'nope\n']), splitLines, parseJsonLines<object>)), { instanceOf: SyntaxError })
})

test('leaving the pipe early closes its source', async t => {
  const closed = { done: false }
  for await (const v of pipe(chunks(['{"n":1}\n{"n":2}\n'], closed), splitLines, parseJsonLines<{ n: number }>)) {
    t.is(v.n, 1)
    break
  }
  t.true(closed.done)
})
