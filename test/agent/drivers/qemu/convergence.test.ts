import test from 'ava'
import { ConvergenceWatch } from '../../../../agent/drivers/qemu/convergence.ts'
import type { MigrationSample } from '../../../../agent/drivers/qemu/migration.ts'

const MiB = 2 ** 20

function at (elapsedMs: number, dirtySyncCount: number, remainingMiB: number, cpuThrottlePercent = 0): MigrationSample {
  return { elapsedMs, status: 'active', transferredBytes: 0, remainingBytes: remainingMiB * MiB, totalBytes: 0, mbps: 0, dirtyBytesPerSec: 10 * MiB, dirtySyncCount: dirtySyncCount, cpuThrottlePercent }
}

test('passes that start with ever fewer dirty pages are progress', t => {
  const w = new ConvergenceWatch(5_000)
  // Pass 1 is all of memory; then 40, 20, 10, 4 MiB: converging however long it takes.
  const feed = [at(0, 1, 256), at(20_000, 2, 40), at(24_000, 3, 20), at(28_000, 4, 10), at(40_000, 5, 4)]
  t.deepEqual(feed.map(s => w.observe(s)), [undefined, undefined, undefined, undefined, undefined])
})

test('passes that keep starting with the same dirty set are not converging after the window', t => {
  const w = new ConvergenceWatch(5_000)
  t.is(w.observe(at(0, 1, 128)), undefined)
  t.is(w.observe(at(8_000, 2, 33)), undefined)
  t.is(w.observe(at(11_000, 3, 32)), undefined, 'a 3% shrink is not progress, but the window is not over')
  t.is(w.observe(at(12_000, 3, 1)), undefined, 'polls within a pass are ignored')
  const reason = w.observe(at(14_000, 4, 34))
  t.regex(reason ?? '', /not converging: no progress for 6000 ms.*best dirty set \(33\.0 MiB; last passes 33\.0, 32\.0, 34\.0 MiB\)/)
})

test('a rising auto-converge throttle counts as progress', t => {
  const w = new ConvergenceWatch(5_000)
  w.observe(at(0, 1, 128))
  w.observe(at(8_000, 2, 33, 20))
  t.is(w.observe(at(12_000, 3, 33, 30)), undefined)
  t.is(w.observe(at(16_000, 4, 33, 40)), undefined)
  t.regex(w.observe(at(22_000, 5, 33, 40)) ?? '', /throttled 40%/)
})
