/** `heliotrope lab chaos-qemu`: chaos with real QEMU guests, invariants checked against QEMU every round. */
import { mkdir, writeFile } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { numberOption, type Command } from '../../agent/cli/run.ts'
import { MAX_HAND_OVER_WAIT_ROUNDS, overlongHandOvers, QEMU_ROUND_MS, runQemuChaos, type QemuChaosReport } from '../chaos/qemu-chaos-run.ts'
import { runWithInterrupts } from './lab-run.ts'

export const DEFAULT_QEMU_CHAOS_PREFIX = 'hq'
export const DEFAULT_QEMU_CHAOS_ROUNDS = 20

export const labChaosQemuCommand: Command = {
  name: 'chaos-qemu',
  summary: 'chaos with real QEMU guests (4 hosts in 2 DCs, 6 TCG guests); invariants checked against QEMU\'s query-status every round',
  usage: `Usage: heliotrope lab chaos-qemu [--rounds N] [--seed S] [--prefix P] [--dir DIR] [--out DIR]

Builds 4 host namespaces in 2 DCs behind the lab's router, boots 6 busybox
guests under QEMU (TCG, 96 MiB), and runs a real agent per host with the
qemu driver, the file collector and mode auto; the traffic pairs guests
across the DCs and changes pairing every few rounds. Faults, one at a time
in a cycle, each held 2 rounds: kill -9 a migration's source agent while
it migrates, kill -9 a random agent (both started again), cut the WAN
between the DCs (restored). After every ${QEMU_ROUND_MS / 1000} s round: query-status of every
guest's QEMU on every host (running = runs there), the agents' logs, and
the invariants: every guest runs on exactly one host, no host over
capacity, a guest moves at most once a round, no round with two plans
acted on. A guest mid hand-over (spent on its source, arrived paused on
its target, waiting for its source agent killed after the state moved)
runs nowhere until that agent is back: it counts on its target and its
wait is reported; over ${MAX_HAND_OVER_WAIT_ROUNDS} rounds is a failure. Exit 1 on a violation,
a split round, an overlong hand-over or an agent exiting by itself. Needs root, qemu-system-x86, a kernel image in /boot, busybox.

Options:
  --rounds N    rounds checked (default ${DEFAULT_QEMU_CHAOS_ROUNDS})
  --seed S      seeds the victims, the DC cut and the kill delays (default 1)
  --prefix P    namespace prefix (default ${DEFAULT_QEMU_CHAOS_PREFIX})   --dir DIR   state, configs, logs
  --out DIR     also write report.json there
`,
  options: { rounds: { type: 'string' }, seed: { type: 'string' }, prefix: { type: 'string' }, dir: { type: 'string' }, out: { type: 'string' } },
  async run (args) {
    const prefix = typeof args.values.prefix === 'string' ? args.values.prefix : DEFAULT_QEMU_CHAOS_PREFIX
    const print = (line: string): void => { process.stdout.write(line + '\n') }
    const report = await runWithInterrupts(async (signal) => runQemuChaos({
      rounds: numberOption(args, 'rounds', DEFAULT_QEMU_CHAOS_ROUNDS, { integer: true, min: 1 }),
      seed: numberOption(args, 'seed', 1, { integer: true, min: 0 }),
      prefix,
      ...(typeof args.values.dir === 'string' ? { dir: args.values.dir } : {}),
      print,
      signal
    }), prefix)
    print('')
    for (const l of qemuChaosSummary(report)) print(l)
    if (typeof args.values.out === 'string') {
      const out = resolve(args.values.out)
      await mkdir(out, { recursive: true })
      await writeFile(join(out, 'report.json'), JSON.stringify(report, null, 2) + '\n')
      print(`report: ${join(out, 'report.json')}`)
    }
    return report.violations.length > 0 || report.splitRounds.length > 0 || report.crashes.length > 0 || overlongHandOvers(report).length > 0 ? 1 : 0
  }
}

export function qemuChaosSummary (r: QemuChaosReport): string[] {
  const m = r.migrations
  return [
    `${r.rounds} rounds, ${r.guests} guests, ${r.ranSec.toFixed(0)} s`,
    `faults: ${Object.entries(r.faults).map(([k, n]) => `${k} ${n}`).join(', ')}; skipped: ${Object.entries(r.skipped).map(([k, n]) => `${k} ${n}`).join(', ')}; restarts ${r.restarts}; source kills with QEMU's migration still active ${r.killsMidMigration}`,
    `migrations (agents' logs): ${m.started} started, ${m.done} done, ${m.failed} failed (${m.cancelled} cancelled); moves QEMU showed: ${r.movesSeen}`,
    `violations: ${r.violations.length}${r.violations.map(v => `\n  invariant ${v.invariant}: ${v.detail}`).join('')}`,
    `hand-over waits (a guest paused on its target while its source agent was dead): ${r.handOverWaits.length}${r.handOverWaits.length > 0 ? ` (${r.handOverWaits.map(w => `${w.vm} ${w.rounds} rounds${w.open ? ', still waiting at the end' : ''}`).join('; ')})` : ''}`,
    `split rounds: ${r.splitRounds.length}${r.splitRounds.length > 0 ? ` (${r.splitRounds.join(', ')})` : ''}; truth re-reads ${r.rereads}; crashes ${r.crashes.length}`
  ]
}
