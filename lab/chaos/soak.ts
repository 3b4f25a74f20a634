/**
 * `npm run soak -- --minutes N`: the lab with follow-the-sun traffic rotating
 * and one fault after another (lab chaos-run) for N minutes, default
 * DEFAULT_SOAK_MINUTES; it stops by itself and prints the figures. Other
 * chaos-run options pass through. Needs root.
 */
import { runCommand } from '../../agent/cli/run.ts'
import { labChaosCommand } from '../cli/lab-chaos.ts'

export const DEFAULT_SOAK_MINUTES = 10

const argv = process.argv.slice(2)
const withMinutes = argv.some(a => a === '--minutes' || a.startsWith('--minutes=')) ? argv : ['--minutes', String(DEFAULT_SOAK_MINUTES), ...argv]
process.exitCode = await runCommand(labChaosCommand, withMinutes)
