/** `heliotrope cluster set|unset|show`: the settings every agent of the cluster runs by. */
import { SETTING_KEYS } from '../../lib/settings.ts'
import { checkChange, parseWord } from '../policy/settings-rules.ts'
import type { SetValue } from '../control-socket/protocol.ts'
import { readRulesFile } from './rules-file.ts'
import { UsageError } from './errors.ts'
import { sendControl } from './control-socket.ts'
import type { ControlRequest } from '../control-socket/protocol.ts'
import { REACH_OPTIONS, REACH_USAGE } from './reach.ts'
import { CLUSTER_SIGN_OPTIONS, CLUSTER_SIGN_USAGE, settingsSigner, signedSettings } from './cluster-sign.ts'
import type { Command, ParsedArgs } from './run.ts'

export const clusterCommand: Command = {
  name: 'cluster',
  summary: 'set or show the cluster-wide settings (mode, limits, cooldown, minimum gain, placement rules)',
  usage: `Usage: heliotrope cluster set KEY VALUE [KEY VALUE...] [--admin-key FILE] [--api ADDR | --config FILE | --socket PATH]
       heliotrope cluster set rules FILE|-
       heliotrope cluster unset KEY [KEY...] [--admin-key FILE]
       heliotrope cluster show

Settings that every agent should share, set once on any member: the agent
gossips them, every agent applies them at once (a mode change decides the
next plan) and keeps them in its state directory across restarts; a host
that was down or is new gets them from the others within a round or two.
A cluster setting wins over the host's config file; \`unset\` gives a key
back to each host's file. Values are checked with the config's own rules:
a bad one is refused and nothing is sent. The newest setting wins (a
version counter; see docs/operations.md, Cluster settings).

KEY is one of:
  mode                 observe | dry-run | approve | auto
  maxMoves             planner.maxMoves: migrations per round (>= 0)
  maxMovesPerHost      planner.maxMovesPerHost (>= 1)
  minGain              planner.minGain: cost a move must save (>= 0)
  maxInFlight          safety.maxInFlight: migrations at once cluster-wide (>= 1)
  maxInFlightPerHost   safety.maxInFlightPerHost (>= 1)
  minImprovement       safety.minImprovement: fraction of the cost (0..1)
  cooldownRounds       safety.cooldownRounds (>= 0)
  rules                planner.rules: FILE (or - for standard input) holds the
                       whole JSON list of placement rules; it replaces every
                       host's list (at most 256 rules, 32 KiB). A rule naming a
                       VM, group or DC the cluster lacks is left out at planning
                       and said, as in the file. [] means no rules anywhere;
                       unset gives each host its file's planner.rules again.

\`show\` prints each value in effect on this host and where it comes from
(file, or cluster with the version); \`heliotrope status\` sums it up.

${CLUSTER_SIGN_USAGE}

${REACH_USAGE}
`,
  options: { ...REACH_OPTIONS, ...CLUSTER_SIGN_OPTIONS },
  async run (args) {
    const [verb, ...rest] = args.positionals
    if (verb === undefined || verb === 'show') {
      if (rest.length > 0) throw new UsageError('show takes no arguments')
      return (await sendControl(args, { op: 'cluster' })).code
    }
    if (verb === 'set') {
      if (rest.length === 0 || rest.length % 2 !== 0) throw new UsageError('set takes KEY VALUE pairs')
      const set: Record<string, SetValue> = {}
      for (let i = 0; i < rest.length; i += 2) {
        const key = rest[i]!
        if (key in set) throw new UsageError(`${key} is given twice`)
        set[key] = key === 'rules' ? await readRulesFile(rest[i + 1]!) as SetValue : parseWord(key, rest[i + 1]!)
      }
      // Checked here first, so a bad value never reaches the agent; the agent checks again.
      return await change(args, checkChange(set), { op: 'cluster', set })
    }
    if (verb === 'unset') {
      if (rest.length === 0) throw new UsageError(`unset takes one or more KEYs (${SETTING_KEYS.join(', ')})`)
      return await change(args, checkChange({}, rest), { op: 'cluster', unset: rest })
    }
    throw new UsageError(`unknown action ${JSON.stringify(verb)}: set, unset or show`)
  }
}

/** Sends a change: signed whole where the cluster has an admin key (cluster-sign.ts), else as the change itself for the agent to apply. */
async function change (args: ParsedArgs, checked: ReturnType<typeof checkChange>, unsigned: ControlRequest): Promise<number> {
  const key = await settingsSigner(args)
  return (await sendControl(args, key === undefined ? unsigned : await signedSettings(args, key, checked))).code
}
