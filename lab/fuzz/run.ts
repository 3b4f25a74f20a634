/**
 * `npm run fuzz -- [--inputs N] [--seed S]`: feeds every decoder and
 * validator random and mutated inputs (a quarter each: byte mutations of
 * valid inputs, structure-aware mutations of valid documents, random bytes,
 * and arbitrary JSON values from fast-check in the target's encoding), then
 * prints per target: inputs, accepted, rejections by reason (top ones),
 * crashes (any throw other than the target's own error) and hangs (an input
 * taking over HANG_MS). Exits non-zero on any crash or hang.
 */
import { parseArgs } from 'node:util'
import fc from 'fast-check'
import { Random } from '../../lib/random.ts'
import { mutate, mutateValue, randomBytes } from './mutate.ts'
import { TARGETS, type FuzzTarget } from './targets.ts'

export const HANG_MS = 250

export interface FuzzReport {
  target: string
  inputs: number
  accepted: number
  reasons: Map<string, number>
  crashes: Array<{ input: Uint8Array, error: string }>
  hangs: number
  ms: number
}

export function fuzz (target: FuzzTarget, inputs: number, seed: number): FuzzReport {
  const rng = new Random(seed)
  const json = fc.sample(fc.jsonValue({ maxDepth: 4 }), { numRuns: Math.max(1, Math.ceil(inputs / 4)), seed })
  const report: FuzzReport = { target: target.name, inputs: 0, accepted: 0, reasons: new Map(), crashes: [], hangs: 0, ms: 0 }
  const started = performance.now()
  for (let i = 0; i < inputs; i++) {
    const kind = i % 4
    let input: Uint8Array
    if (kind === 0) input = mutate(rng, rng.pick(target.seeds), target.seeds)
    else if (kind === 1) {
      // cborg refuses some values (e.g. undefined); such a mutation falls back to bytes.
      try { input = target.serialize(mutateValue(rng, rng.pick(target.values))) } catch { input = mutate(rng, rng.pick(target.seeds), target.seeds) }
    } else if (kind === 2) input = randomBytes(rng, 256)
    else input = target.serialize(json[i % json.length])
    const t0 = performance.now()
    try {
      const r = target.run(input)
      if (r === 'ok') report.accepted++; else report.reasons.set(r, (report.reasons.get(r) ?? 0) + 1)
    } catch (err) {
      if (report.crashes.length < 5) report.crashes.push({ input, error: err instanceof Error ? err.stack ?? err.message : String(err) })
      else report.crashes.length++
    }
    // A slow input is timed again: on a busy machine one slow run is noise,
    // an input that is slow every time is a hang (super-linear parsing).
    if (performance.now() - t0 > HANG_MS && isSlow(target, input)) report.hangs++
    report.inputs++
  }
  report.ms = performance.now() - started
  return report
}

function isSlow (target: FuzzTarget, input: Uint8Array): boolean {
  let fastest = Infinity
  for (let i = 0; i < 3; i++) {
    const t0 = performance.now()
    try { target.run(input) } catch { /* counted above */ }
    fastest = Math.min(fastest, performance.now() - t0)
  }
  return fastest > HANG_MS
}

export function formatReport (r: FuzzReport): string {
  const top = [...r.reasons].sort((a, b) => b[1] - a[1]).slice(0, 4).map(([k, n]) => `${k} ${n}`).join(', ')
  return `${r.target.padEnd(16)} ${String(r.inputs).padStart(9)} inputs  ${String(r.accepted).padStart(8)} accepted  ${String(r.inputs - r.accepted - r.crashes.length).padStart(9)} rejected (${r.reasons.size} reasons; top: ${top})  ${r.crashes.length} crashes  ${r.hangs} hangs  ${(r.ms / 1000).toFixed(1)} s`
}

async function main (): Promise<void> {
  const { values } = parseArgs({ options: { inputs: { type: 'string', default: '200000' }, seed: { type: 'string', default: '1' } } })
  const inputs = Number(values.inputs); const seed = Number(values.seed)
  let bad = 0
  let total = 0
  for (const target of TARGETS) {
    const r = fuzz(target, inputs, seed)
    total += r.inputs
    console.log(formatReport(r))
    for (const c of r.crashes.slice(0, 2)) console.log(`  crash on ${Buffer.from(c.input).toString('base64')}: ${c.error.split('\n').slice(0, 3).join(' | ')}`)
    bad += r.crashes.length + r.hangs
  }
  console.log(`\n${total} inputs over ${TARGETS.length} targets, ${bad} crashes or hangs`)
  process.exitCode = bad === 0 ? 0 : 1
}

if (import.meta.url === `file://${process.argv[1]}`) await main()
