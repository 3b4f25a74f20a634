/**
 * `npm run bench:model`: the dissemination model (lab/model, docs/design.md
 * §9.7) on the cases the design cites: the model beside the measured
 * agents, then the three protocols at 64, 1,000 and 10,000 hosts on 16 DCs
 * and 1,000 and 10,000 on 4, a killed aggregator and planner with crashes
 * and loss (tiered, and relay: the tiered agents as built), and a cheating
 * aggregator. Each case is the output of the
 * `heliotrope lab model` command line printed above it.
 */
import { calibrationTable, relayCalibrationTable } from '../model/calibration.ts'
import { modelReport, type ReportOptions } from '../model/report.ts'
import { startBenchReport } from './report.ts'

const report = startBenchReport('model')

const base: ReportOptions = { hosts: [64, 1000, 10000], protocols: ['today', 'tiered', 'relay'], dcs: 16, vmsPerHost: 20, rounds: 3, seed: 1, periodMs: 30_000, crashRate: 0, loss: 0, changeRate: 0.1, killAggregator: false, killPlanner: false }
const CASES: Array<[string, ReportOptions]> = [
  ['--hosts 64,1000,10000 --dcs 16', base],
  ['--hosts 1000,10000 --dcs 4', { ...base, hosts: [1000, 10000], dcs: 4 }],
  ['--hosts 10000 --dcs 16 --protocol tiered --kill-aggregator --kill-planner --crash-rate 0.001 --loss 0.001', { ...base, hosts: [10000], protocols: ['tiered'], killAggregator: true, killPlanner: true, crashRate: 0.001, loss: 0.001 }],
  ['--hosts 10000 --dcs 16 --protocol relay --kill-aggregator --kill-planner --crash-rate 0.001 --loss 0.001', { ...base, hosts: [10000], protocols: ['relay'], killAggregator: true, killPlanner: true, crashRate: 0.001, loss: 0.001 }],
  ['--hosts 1000 --dcs 16 --protocol tiered --attack alter', { ...base, hosts: [1000], protocols: ['tiered'], attack: 'alter' }]
]

const t0 = Date.now()
process.stdout.write('$ heliotrope lab model --calibrate   (today beside flooding agents: bench:gossip CPU and lab sim messages; FRAME_CPU_MS fitted at 64)\n\n' + calibrationTable(1) + '\n\n')
process.stdout.write('(relay beside tiered agents: bench:gossip relay frames and CPU; upkeep fitted on the two 16-agent runs)\n\n' + relayCalibrationTable(1) + '\n\n')
for (const [line, opts] of CASES) {
  process.stderr.write(`lab model ${line}\n`)
  process.stdout.write(`$ heliotrope lab model ${line}\n\n${modelReport(opts)}\n`)
}
process.stdout.write(`bench wall time ${((Date.now() - t0) / 1000).toFixed(0)} s\n`)
await report.done()
