import { execFile, spawn } from 'node:child_process'
import { appendFile, mkdir, mkdtemp, rename, rm, truncate, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { FileCollector } from '../../../../agent/drivers/file/collector.ts'
import { waitFor } from '../../mesh/harness.ts'
import type { FileCollectorInit } from '../../../../agent/drivers/file/collector.ts'

const A = 'fd00:1::a'
const B = 'fd00:1::b'
const rec = (src: string, dst: string, bytes: number): string => JSON.stringify({ src, dst, bytes }) + '\n'

async function tempDir (t: ExecutionContext): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'htfile-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

/**
 * Waits until the collector has taken `lines` lines (records and malformed
 * ones): a FIFO's lines arrive asynchronously, and a fixed sleep can be too
 * short on a busy machine; 30 s is far beyond any real wait.
 */
async function seen (c: FileCollector, lines: number): Promise<void> {
  await waitFor(() => c.stats.records + c.stats.malformed >= lines, 30_000, `the collector to take ${lines} lines`)
}

async function started (t: ExecutionContext, init: FileCollectorInit): Promise<FileCollector> {
  const c = new FileCollector({}, init)
  await c.start()
  t.teardown(async () => { await c.stop() })
  return c
}

test('what was in the file before start is history; later lines come as deltas summed per pair', async t => {
  const path = join(await tempDir(t), 'flows.jsonl')
  await writeFile(path, rec(A, B, 999_999))
  const c = await started(t, { path })
  t.deepEqual(await c.read(1_000), { deltas: [], windowMs: 0, uncountedBytes: 0 }, 'the first read opens the window')
  await appendFile(path, rec(A, B, 100) + rec(A, B, 50) + rec(B, A, 7))
  const s = await c.read(3_000)
  t.is(s.windowMs, 2_000)
  t.deepEqual(s.deltas, [{ src: A, dst: B, bytes: 150 }, { src: B, dst: A, bytes: 7 }])
  t.deepEqual((await c.read(4_000)).deltas, [], 'each line is returned once')
  t.is(c.stats.records, 3)
})

test('a line still being written is held until its newline arrives', async t => {
  const path = join(await tempDir(t), 'flows.jsonl')
  await writeFile(path, '')
  const c = await started(t, { path })
  await c.read(0)
  const line = rec(A, B, 42)
  await appendFile(path, line.slice(0, 20))
  t.deepEqual((await c.read(1_000)).deltas, [])
  await appendFile(path, line.slice(20))
  t.deepEqual((await c.read(2_000)).deltas, [{ src: A, dst: B, bytes: 42 }])
})

test('malformed and overlong lines are counted and skipped, never thrown', async t => {
  const path = join(await tempDir(t), 'flows.jsonl')
  await writeFile(path, '')
  const c = await started(t, { path, maxLineBytes: 200 })
  await c.read(0)
  await appendFile(path, [
    'garbage',
    '{"src":"fd00:1::a","dst":"not-an-address","bytes":5}',
    `{"src":"${A}","dst":"${B}","bytes":1,"pad":"${'x'.repeat(500)}"}`,
    '',
    '\u0000\u0001binary\uffff',
    rec(A, B, 10).trimEnd()
  ].join('\n') + '\n')
  const s = await c.read(1_000)
  t.deepEqual(s.deltas, [{ src: A, dst: B, bytes: 10 }])
  t.is(c.stats.malformed, 4)
  t.is(c.stats.overlong, 1)
  t.is(c.stats.records, 1)
  t.regex(c.stats.lastMalformed ?? '', /not JSON/)
})

test('a truncated file is read again from 0; a partial line from before is dropped', async t => {
  const path = join(await tempDir(t), 'flows.jsonl')
  await writeFile(path, '')
  const c = await started(t, { path })
  await c.read(0)
  await appendFile(path, rec(A, B, 1) + rec(A, B, 2) + '{"src":"fd00:1')
  t.deepEqual((await c.read(1_000)).deltas, [{ src: A, dst: B, bytes: 3 }])
  await truncate(path, 0) // copytruncate
  await appendFile(path, rec(B, A, 5))
  t.deepEqual((await c.read(2_000)).deltas, [{ src: B, dst: A, bytes: 5 }])
  t.is(c.stats.restarts, 1)
  t.is(c.stats.malformed, 0, 'the stale partial line did not glue onto the new content')
})

test('a rotated file (renamed away, created again) is read from 0, even when the new one is already longer', async t => {
  const dir = await tempDir(t)
  const path = join(dir, 'flows.jsonl')
  await writeFile(path, '')
  const c = await started(t, { path })
  await c.read(0)
  await appendFile(path, rec(A, B, 1))
  t.deepEqual((await c.read(1_000)).deltas, [{ src: A, dst: B, bytes: 1 }])
  await rename(path, `${path}.1`)
  t.deepEqual((await c.read(2_000)).deltas, [], 'missing between rename and create: empty, no error')
  await writeFile(path, rec(B, A, 3) + rec(B, A, 4) + rec(A, B, 5))
  t.deepEqual((await c.read(3_000)).deltas, [{ src: B, dst: A, bytes: 7 }, { src: A, dst: B, bytes: 5 }])
  t.is(c.stats.restarts, 1)
})

test('a file that does not exist yet is read from 0 once it appears', async t => {
  const path = join(await tempDir(t), 'later.jsonl')
  const c = await started(t, { path })
  t.deepEqual((await c.read(0)).deltas, [])
  await writeFile(path, rec(A, B, 8))
  t.deepEqual((await c.read(1_000)).deltas, [{ src: A, dst: B, bytes: 8 }])
})

test('pairs beyond the bound are reported as uncounted bytes', async t => {
  const path = join(await tempDir(t), 'flows.jsonl')
  await writeFile(path, '')
  const c = await started(t, { path, maxPairs: 2 })
  await c.read(0)
  await appendFile(path, rec(A, B, 1) + rec(B, A, 2) + rec(A, 'fd00:1::c', 30) + rec(A, B, 4))
  const s = await c.read(1_000)
  t.deepEqual(s.deltas, [{ src: A, dst: B, bytes: 5 }, { src: B, dst: A, bytes: 2 }])
  t.is(s.uncountedBytes, 30)
})

test('a backlog larger than one read is taken over several reads', async t => {
  const path = join(await tempDir(t), 'flows.jsonl')
  await writeFile(path, '')
  const c = await started(t, { path, maxReadBytes: 100 })
  await c.read(0)
  await appendFile(path, rec(A, B, 1).repeat(10)) // 10 lines of 42 bytes
  let total = 0
  for (let i = 1; i <= 6; i++) total += (await c.read(i * 1_000)).deltas.reduce((s, d) => s + d.bytes, 0)
  t.is(total, 10)
  t.is(c.stats.malformed, 0)
})

test('a directory is refused with a clear reason; an empty path too', async t => {
  const dir = await tempDir(t)
  await mkdir(join(dir, 'sub'))
  await t.throwsAsync(new FileCollector({}, { path: join(dir, 'sub') }).start(), { name: 'CollectorError', message: /neither a regular file nor a FIFO/ })
  t.throws(() => new FileCollector({}, { path: '' }), { name: 'CollectorError' })
})

test('a FIFO: writers come and go, lines arrive, no end-of-file', async t => {
  const path = join(await tempDir(t), 'flows.fifo')
  await promisify(execFile)('mkfifo', [path])
  const c = await started(t, { path })
  await c.read(0)
  for (const bytes of [10, 20]) {
    // Each append opens the FIFO, writes and closes it: one writer after another.
    await appendFile(path, rec(A, B, bytes))
  }
  await appendFile(path, 'not json\n')
  await seen(c, 3)
  const s = await c.read(1_000)
  t.deepEqual(s.deltas, [{ src: A, dst: B, bytes: 30 }])
  t.is(c.stats.malformed, 1)
  await appendFile(path, rec(B, A, 5))
  await seen(c, 4)
  t.deepEqual((await c.read(2_000)).deltas, [{ src: B, dst: A, bytes: 5 }])
})

test('standard input ("-"): records piped in are read', async t => {
  t.timeout(60_000)
  const script = fileURLToPath(new URL('./stdin-reader.ts', import.meta.url))
  const child = spawn(process.execPath, [script], { stdio: ['pipe', 'pipe', 'inherit'] })
  t.teardown(() => { child.kill('SIGKILL') })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const ready = async (mark: string): Promise<void> => {
    for (let i = 0; i < 300 && !out.includes(mark); i++) await sleep(100)
  }
  await ready('started')
  child.stdin.write(rec(A, B, 11) + 'junk\n' + rec(A, B, 1))
  await sleep(300)
  child.stdin.end()
  await new Promise(resolve => child.once('exit', resolve))
  const result = JSON.parse(out.split('\n').find(l => l.startsWith('{')) ?? '{}') as { deltas?: unknown, malformed?: number }
  t.deepEqual(result.deltas, [{ src: A, dst: B, bytes: 12 }])
  t.is(result.malformed, 1)
})
