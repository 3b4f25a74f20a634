/**
 * `npm run bench:migration`: real QEMU live migrations with the qemu driver
 * between two lab hosts (network namespaces) over a tbf-throttled 100 Mbit/s
 * IPv6 link. Total time, downtime and bytes for an idle and a memory-writing
 * guest, beside the physical limit (bytes / link rate); what xbzrle and
 * auto-converge change; and the transfer rate over time (like the thesis's
 * Figures 5.1/5.2) as a table and as an SVG chart (lab/figures/migration-rate.svg,
 * which docs/benchmarks.md embeds; `--svg PATH` writes it elsewhere). Needs root,
 * qemu-system-x86, a kernel in /boot and busybox-static. About 3 minutes on
 * 2 cores (guests run on TCG).
 */
import { execFileSync } from 'node:child_process'
import { writeFileSync } from 'node:fs'
import { relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { testGuestConfig, waitForGuestReady } from '../vm/qemu-guest.ts'
import type { TestGuestSpec } from '../vm/qemu-guest.ts'
import type { QemuDriver } from '../../agent/drivers/qemu/driver.ts'
import type { MigrationSample, MigrationTuning } from '../../agent/drivers/qemu/migration.ts'
import type { MigrationResult } from '../../agent/drivers/types.ts'
import { lineChart } from '../report/svg-chart.ts'
import type { Series } from '../report/svg-chart.ts'
import { createQemuLab, qemuLabUnavailable } from '../vm/qemu-lab.ts'
import type { QemuLab } from '../vm/qemu-lab.ts'
import { startBenchReport } from './report.ts'
import { table } from './text-table.ts'

/** Writes this run into docs/benchmarks.md at the end (--no-write: not). */
const report = startBenchReport('migration')

const LINK_MBIT = 100
const LINK_BYTES_PER_SEC = LINK_MBIT * 1e6 / 8
const POLL_MS = 250
const SERIES_BUCKET_MS = 1_000
const DEADLINE_MS = 90_000

interface Run {
  name: string
  memoryMiB: number
  result: MigrationResult
  samples: MigrationSample[]
}


async function boot (lab: QemuLab, on: QemuDriver, spec: TestGuestSpec): Promise<void> {
  const started = Date.now()
  await on.create(testGuestConfig(lab.guest, spec))
  const ready = await waitForGuestReady(on.paths(spec.id).log, 120_000)
  console.error(`  ${spec.id}: "${ready}" after ${((Date.now() - started) / 1000).toFixed(1)} s`)
}

/** Moves `id` from `from` to `to` and records the result and the query-migrate samples. */
async function move (name: string, id: string, memoryMiB: number, from: QemuDriver, to: QemuDriver, tuning: MigrationTuning = {}): Promise<Run> {
  const vm = (await from.list()).find(v => v.id === id)
  if (vm === undefined) throw new Error(`${id} is not on the source`)
  const target = await to.prepareIncoming(vm)
  const samples: MigrationSample[] = []
  const result = await from.migrate(id, target, {
    deadlineMs: DEADLINE_MS,
    maxBandwidth: LINK_BYTES_PER_SEC * 2, // above the link: tbf sets the rate, not QEMU's cap
    pollMs: POLL_MS,
    notConvergingMs: 10_000,
    onSample: s => { samples.push(s) },
    // The agents' hand-over with no WAN between: the target starts its copy at once.
    handOver: async () => { await to.finishIncoming(id); return 'started' as const },
    ...tuning
  })
  if (!result.ok) await to.cancelIncoming(id)
  console.error(`  ${name}: ${result.ok ? 'done' : `failed: ${result.error ?? ''}`}`)
  return { name, memoryMiB, result, samples }
}

interface Bucket {
  startMs: number
  endMs: number
  mbit: number
  remainingMiB: number
  pass: number
  status: string
}

/** Mbit/s per bucket of about SERIES_BUCKET_MS, from the growth of `transferred` between samples. */
function buckets (samples: MigrationSample[]): Bucket[] {
  const out: Bucket[] = []
  let prev = { elapsedMs: 0, transferredBytes: 0 }
  let bucketEnd = SERIES_BUCKET_MS
  for (const s of samples) {
    if (s.elapsedMs < bucketEnd && s !== samples.at(-1)) continue
    if (s.elapsedMs <= prev.elapsedMs) continue
    const mbit = (s.transferredBytes - prev.transferredBytes) * 8 / 1e6 / ((s.elapsedMs - prev.elapsedMs) / 1000)
    out.push({ startMs: prev.elapsedMs, endMs: s.elapsedMs, mbit, remainingMiB: s.remainingBytes / 2 ** 20, pass: s.dirtySyncCount, status: s.status })
    prev = s
    bucketEnd = s.elapsedMs + SERIES_BUCKET_MS
  }
  return out
}

function seriesTable (bs: Bucket[]): string[][] {
  return bs.map(b => [(b.endMs / 1000).toFixed(1), b.mbit.toFixed(1), b.remainingMiB.toFixed(1), String(b.pass), b.status])
}

/** Each bucket's rate held over its interval (a step line), as the router's log in the thesis's figures. */
function rateSeries (name: string, bs: Bucket[]): Series {
  const points: Array<[number, number]> = bs.map(b => [b.startMs / 1000, b.mbit])
  const last = bs.at(-1)
  if (last !== undefined) points.push([last.endMs / 1000, last.mbit])
  return { name, points, step: true }
}

const args = parseArgs({ options: { svg: { type: 'string', default: fileURLToPath(new URL('../figures/migration-rate.svg', import.meta.url)) } } }).values

const unavailable = await qemuLabUnavailable()
if (unavailable !== undefined) {
  console.error(`bench:migration cannot run: ${unavailable}`)
  process.exit(1)
}

const started = Date.now()
const lab = await createQemuLab({ rateMbit: LINK_MBIT, tag: 'bench' })
const runs: Run[] = []
try {
  console.error('idle guest, 256 MiB')
  await boot(lab, lab.source, { id: 'idle', memoryMiB: 256 })
  runs.push(await move('idle 256 MiB', 'idle', 256, lab.source, lab.target))
  await lab.target.destroy('idle')

  // One writing guest moved back and forth, so every variant sees the same workload.
  console.error('writing guest, 256 MiB, rewrites 160 MiB at 2 MiB/s')
  await boot(lab, lab.source, { id: 'writer', memoryMiB: 256, dirty: { sizeMiB: 160, rateMiBps: 2 } })
  runs.push(await move('writing 2 MiB/s', 'writer', 256, lab.source, lab.target))
  runs.push(await move('writing 2 MiB/s, xbzrle', 'writer', 256, lab.target, lab.source, { xbzrle: true }))
  await lab.source.destroy('writer')

  console.error('fast-writing guest, 128 MiB, rewrites 48 MiB as fast as it can')
  await boot(lab, lab.source, { id: 'fast', memoryMiB: 128, dirty: { sizeMiB: 48, rateMiBps: 0 } })
  runs.push(await move('writing flat out', 'fast', 128, lab.source, lab.target))
  runs.push(await move('writing flat out, auto-converge', 'fast', 128, lab.source, lab.target, { autoConverge: true }))
} finally {
  await lab.destroy()
}

const s = (ms: number): string => (ms / 1000).toFixed(1)
const qemu = execFileSync('qemu-system-x86_64', ['-version'], { encoding: 'utf8' }).split('\n')[0]!.replace(/^QEMU emulator version /, '')
console.log(`live migration benchmark: QEMU ${qemu}, TCG guests, over a tbf ${LINK_MBIT} Mbit/s IPv6 veth, node ${process.version}\n`)
console.log(table(
  ['case', 'result', 'total s', 'downtime ms', 'MB moved', 'moved/link s', 'RAM/link s', 'achieved Mbit/s'],
  runs.map(r => {
    const bytes = r.result.bytes ?? 0
    return [
      r.name,
      r.result.ok ? 'ok' : 'aborted',
      s(r.result.totalMs),
      r.result.downtimeMs === undefined ? '-' : String(r.result.downtimeMs),
      (bytes / 1e6).toFixed(1),
      s(bytes / LINK_BYTES_PER_SEC * 1000),
      s(r.memoryMiB * 2 ** 20 / LINK_BYTES_PER_SEC * 1000),
      (bytes * 8 / 1e6 / (r.result.totalMs / 1000)).toFixed(1)
    ]
  })
))
console.log(`
moved/link: the bytes QEMU actually sent at exactly ${LINK_MBIT} Mbit/s (the physical limit for that traffic;
tbf counts IP headers, so TCP payload tops out near 95 Mbit/s). RAM/link: the whole guest RAM at the
link rate; an idle guest beats it because QEMU sends zero pages as flags.`)
for (const r of runs.filter(r => r.result.error !== undefined)) console.log(`${r.name}: ${r.result.error}`)

const charted: Series[] = []
for (const name of ['idle 256 MiB', 'writing 2 MiB/s']) {
  const r = runs.find(x => x.name === name)
  if (r === undefined) continue
  const bs = buckets(r.samples)
  console.log(`\ntransfer rate over the migration, ${name} (${SERIES_BUCKET_MS} ms buckets from query-migrate):\n`)
  console.log(table(['t s', 'Mbit/s', 'remaining MiB', 'pass', 'status'], seriesTable(bs)))
  charted.push(rateSeries(`${name === 'idle 256 MiB' ? 'idle guest' : 'writing guest'}, ${s(r.result.totalMs)} s`, bs))
}
if (charted.length > 0) {
  const end = Math.max(...charted.flatMap(c => c.points.map(p => p[0])))
  // The link's rate as a flat line: the physical limit the migrations run against.
  charted.push({ name: `link, ${LINK_MBIT} Mbit/s`, points: [[0, LINK_MBIT], [end, LINK_MBIT]] })
  writeFileSync(args.svg, lineChart(charted, {
    // The short version only: Debian's full version string overflows the chart's width.
    title: `Live migration over a ${LINK_MBIT} Mbit/s link: transfer rate (QEMU ${qemu.split(' ')[0]!}, TCG)`,
    xLabel: 'seconds since the migration started',
    yLabel: 'Mbit/s (RAM bytes sent, 1 s buckets)'
  }))
  console.log(`\nchart: ${relative(process.cwd(), args.svg)}`)
}
console.log(`\nbench wall time ${s(Date.now() - started)} s`)
await report.done()
