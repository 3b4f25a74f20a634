/**
 * `heliotrope lab agent --config FILE`: one agent as `heliotrope agent` runs
 * it (the same daemon code), with the lab's drivers registered too, so its
 * config may name the sim and lab kinds. Lab runs spawn their agents here.
 */
import { AGENT_OPTIONS, runAgent } from '../../agent/cli/agent-command.ts'
import type { Command } from '../../agent/cli/run.ts'
import { LAB_DRIVERS } from '../drivers/index.ts'

export const labAgentCommand: Command = {
  name: 'agent',
  summary: 'run one agent whose config may name the lab drivers (sim, lab)',
  usage: `Usage: heliotrope lab agent --config FILE [--log-level debug|info|warn|error]

Runs one agent as \`heliotrope agent\` does, with the lab's drivers as well
as production's: the config's hypervisor may be
  { "kind": "sim", "world": DIR, "bandwidthBps"?: N, "timeScale"?: X }
  { "kind": "lab", "dir": LAB_STATE_DIR }
and its collector { "kind": "sim", "world": DIR }. Lab runs start their
agents with this command; a production host runs \`heliotrope agent\`.
`,
  options: AGENT_OPTIONS,
  run: async (args) => await runAgent(args, LAB_DRIVERS)
}
