/**
 * bench:optimum's clustered seed 17 (18 VMs, 3 DCs of 2 hosts, slack 1.2):
 * the agents' loop stopped at 2.08 times its optimum until rounds were
 * searched as paths (lib/planners/round-beam.ts). Built by the bench's own
 * generator, so it is the bench's instance.
 */
import type { Snapshot } from '../../lib/model.ts'
import { benchCase } from '../../lab/bench/optimum/instances.ts'

/** glpsol's proven optimum for it (lab/bench/optimum/ilp.ts; docs/benchmarks.md prints 0.1999). */
export const CLUSTERED_17_OPTIMUM = 0.19989572993310264

export function clustered17 (): { name: string, optimum: number, snapshot: Snapshot } {
  return { name: 'clustered seed 17', optimum: CLUSTERED_17_OPTIMUM, snapshot: benchCase('clustered', 18, 3, 17, 1.2).inst.snapshot }
}
