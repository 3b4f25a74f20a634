/**
 * `heliotrope lab SUBCOMMAND`: the lab's commands. Each subcommand is one
 * file exporting a Command; adding one is that file plus a line in
 * LAB_SUBCOMMANDS.
 */
import { dispatch, type Command } from '../../agent/cli/run.ts'
import { labAgentCommand } from './lab-agent.ts'
import { labDownCommand } from './lab-down.ts'
import { labRunCommand } from './lab-run.ts'
import { labUpCommand } from './lab-up.ts'
import { chaosCommand } from './sim-chaos.ts'
import { labChaosCommand } from './lab-chaos.ts'
import { labChaosQemuCommand } from './lab-chaos-qemu.ts'
import { simCommand } from './sim.ts'
import { modelCommand } from './model.ts'

export const LAB_SUBCOMMANDS: Command[] = [simCommand, modelCommand, chaosCommand, labUpCommand, labDownCommand, labRunCommand, labChaosCommand, labChaosQemuCommand, labAgentCommand]

const TITLE = 'heliotrope lab: clusters of real agents on this machine'

/** Subcommands parse their own options, so `lab` hands them the rest of the line untouched. */
export async function runLab (argv: string[]): Promise<number> {
  return dispatch(TITLE, LAB_SUBCOMMANDS, argv)
}

/** The entry in the top-level list; lab/cli/main.ts routes `lab ...` to runLab before parsing. */
export const labCommand: Command = {
  name: 'lab',
  summary: `the lab: ${LAB_SUBCOMMANDS.map(c => c.name).join(', ')} (heliotrope lab --help)`,
  usage: `Usage: heliotrope lab SUBCOMMAND [OPTIONS]\n\n${LAB_SUBCOMMANDS.map(c => `  ${c.name.padEnd(8)} ${c.summary}`).join('\n')}\n`,
  options: {},
  run: async (args) => runLab(args.positionals)
}
