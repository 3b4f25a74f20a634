/** Offline tools and the lab: `heliotrope scenario|plan|demo|lab ...`. */
import { dispatch } from '../../agent/cli/run.ts'
import { demoCommand } from './demo.ts'
import { planCommand } from './plan.ts'
import { scenarioCommand } from './scenario.ts'

export const LAB_COMMANDS = [scenarioCommand, planCommand, demoCommand]

export async function main (argv: string[]): Promise<number> {
  return dispatch('heliotrope: offline planning and the lab', LAB_COMMANDS, argv)
}
