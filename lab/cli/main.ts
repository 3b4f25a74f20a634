/** Offline tools and the lab: `heliotrope scenario|plan|demo|sandbox|lab ...`. */
import { dispatch } from '../../agent/cli/run.ts'
import { demoCommand } from './demo.ts'
import { labCommand, runLab } from './lab.ts'
import { planCommand } from './plan.ts'
import { sandboxCommand } from './sandbox.ts'
import { scenarioCommand } from './scenario.ts'

export const LAB_COMMANDS = [scenarioCommand, planCommand, demoCommand, sandboxCommand, labCommand]

export async function main (argv: string[]): Promise<number> {
  // `lab` has subcommands with their own options: route before the strict parse.
  if (argv[0] === labCommand.name) return runLab(argv.slice(1))
  return dispatch('heliotrope: offline planning and the lab', LAB_COMMANDS, argv)
}
