/** Daemon and operator commands. Offline tools and the lab: lab/cli. */
import { adminKeyCommand } from './admin-key-command.ts'
import { agentCommand } from './agent-command.ts'
import { approveCommand } from './approve-command.ts'
import { clusterCommand } from './cluster-command.ts'
import { configCommand } from './config-command.ts'
import { doctorCommand } from './doctor-command.ts'
import { drainCommand, undrainCommand } from './drain-command.ts'
import { initCommand } from './init-command.ts'
import { inviteCommand } from './invite-command.ts'
import { keyCommand } from './key-command.ts'
import { pinCommand, unpinCommand } from './pin-command.ts'
import { consoleCommand } from './console-command.ts'
import { membersCommand } from './members-command.ts'
import { monitorCommand } from './monitor-command.ts'
import { dispatch, type Command } from './run.ts'
import { statusCommand } from './status-command.ts'

export const AGENT_COMMANDS: Command[] = [initCommand, inviteCommand, configCommand, doctorCommand, agentCommand, approveCommand, pinCommand, unpinCommand, drainCommand, undrainCommand, clusterCommand, keyCommand, adminKeyCommand, statusCommand, membersCommand, monitorCommand, consoleCommand]

const TITLE = `heliotrope: moves VMs between data centers so distributed applications
stop hammering the WAN links between them.

Offline and lab commands:
  scenario     generate a seeded snapshot (thesis, clustered, web)
  plan         run a planner on a snapshot file and print the moves
  demo         run the thesis scenario and write a report
  sandbox      try it without VMs: N agents on loopback, a simulated world
  lab          network namespaces as data centers, with real agents:
               up, down, run, sim, chaos, agent (heliotrope lab --help)`

export async function main (argv: string[]): Promise<number> {
  return dispatch(TITLE, AGENT_COMMANDS, argv)
}
