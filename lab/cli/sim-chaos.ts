/** `heliotrope lab chaos`: seeded fault injection on the in-process simulation, with the invariants checked every round. */
import { type Command, numberOption } from '../../agent/cli/run.ts'
import { chaosTable, dropsTable } from '../chaos/report.ts'
import { runSimChaos, type ChaosReport } from '../chaos/sim-chaos-run.ts'

export const chaosCommand: Command = {
  name: 'chaos',
  summary: 'agents killed, restarted with skewed clocks, messages lost, DCs cut off, migrations slowed and failing; invariants checked every round',
  usage: `Usage: heliotrope lab chaos [--agents N] [--vms V] [--rounds R] [--seeds S] [--period MS] [--rate P]

Runs N real agents in one process (memory transport, sim hypervisor) for R
rounds per seed, injecting seeded faults: agent kills and restarts (half of
them with a skewed clock), message loss, a DC partitioned from the others,
slow and failing migrations. After every round it checks the invariants
against the hypervisors' placement and what the agents did, then prints the
faults by kind, violations (must be 0), rounds in which two planners' plans
were both acted on (must be 0), VMs moved back within 3 rounds, and what
the agents dropped or refused, by reason (summed over agents).
Exit status 1 if any violation or split round was seen.

Options:
  --agents N   agents (default 8)        --vms V      VMs (default 40)
  --rounds R   rounds per seed (default 50)
  --seeds S    seeds 1..S (default 1)    --period MS  round period (default 1500)
  --rate P     per-round chance of each fault kind (default 0.3)
`,
  options: { agents: { type: 'string' }, vms: { type: 'string' }, rounds: { type: 'string' }, seeds: { type: 'string' }, period: { type: 'string' }, rate: { type: 'string' } },
  async run (args) {
    const agents = numberOption(args, 'agents', 8, { integer: true, min: 3 })
    const vms = numberOption(args, 'vms', 40, { integer: true, min: 1 })
    const rounds = numberOption(args, 'rounds', 50, { integer: true, min: 1 })
    const seeds = numberOption(args, 'seeds', 1, { integer: true, min: 1 })
    const period = numberOption(args, 'period', 1500, { integer: true, min: 500 })
    const rate = numberOption(args, 'rate', 0.3, { min: 0 })
    const runs: Array<{ seed: number, report: ChaosReport }> = []
    for (let seed = 1; seed <= seeds; seed++) {
      const report = await runSimChaos({ agents, vms, rounds, seed, roundPeriodMs: period, rate, onRound: line => process.stderr.write(`seed ${seed}: ${line}\n`) })
      runs.push({ seed, report })
      for (const v of report.violations) process.stdout.write(`VIOLATION (invariant ${v.invariant}) seed ${seed}: ${v.detail}\n`)
      for (const d of report.splitDetails) process.stdout.write(`SPLIT seed ${seed}: ${d}\n`)
    }
    process.stdout.write(chaosTable(runs) + '\n')
    process.stdout.write('\nDropped or refused by the agents (summed over agents), by reason:\n\n' + dropsTable(runs) + '\n')
    return runs.some(r => r.report.violations.length > 0 || r.report.splitRounds.length > 0) ? 1 : 0
  }
}
