/** `heliotrope config check FILE`: validates a config and the files it names, before a restart. */
import { readFile, stat } from 'node:fs/promises'
import { ValidationError } from '../../lib/errors.ts'
import { parseTopology } from '../../lib/topology.ts'
import { readConfigFile } from '../config-file.ts'
import { readPsk } from '../net/keys.ts'
import { UsageError } from './errors.ts'
import type { Command } from './run.ts'

export const configCommand: Command = {
  name: 'config',
  summary: 'check a config file (heliotrope config check FILE)',
  usage: `Usage: heliotrope config check FILE

Validates FILE as the agent would (every bad field with the form expected and
the value found; the JSON Schema is agent/config.schema.json), then the files
it names: the pre-shared key (readable, mode 0600, well formed) and the
topology (valid, and naming this host's DC). Exit 0 when all is well, 1
otherwise.
`,
  options: {},
  async run (args) {
    const [sub, file, ...rest] = args.positionals
    if (sub !== 'check') throw new UsageError(sub === undefined ? 'a subcommand is required: check' : `unknown subcommand ${JSON.stringify(sub)} (only check)`)
    if (file === undefined || rest.length > 0) throw new UsageError('check takes one FILE')
    let config
    try {
      config = await readConfigFile(file)
    } catch (err) {
      if (err instanceof ValidationError) { process.stderr.write(`${file}: ${err.message}\n`); return 1 }
      throw err
    }
    const problems: string[] = []
    const notes: string[] = [`cluster ${config.cluster}, host ${config.host} (dc ${config.dc}), mode ${config.mode}, ${config.members.length} member(s), planner ${config.planner.name}`]
    try {
      await readPsk(config.pskFile)
      notes.push(`pskFile ${config.pskFile}: a valid key, mode 0600`)
    } catch (err) {
      problems.push(`pskFile: expected a readable pre-shared key file with mode 0600, found ${(err as Error).message}`)
    }
    try {
      const topology = parseTopology(JSON.parse(await readFile(config.topologyFile, 'utf8')))
      if (!topology.dcs.some(d => d.id === config.dc)) problems.push(`dc: expected a DC of ${config.topologyFile} (${topology.dcs.map(d => d.id).join(', ')}), found ${JSON.stringify(config.dc)}`)
      else notes.push(`topologyFile ${config.topologyFile}: ${topology.dcs.length} DC(s), ${topology.links.length} link(s)`)
    } catch (err) {
      problems.push(`topologyFile: expected a valid topology file, found ${(err as Error).message}`)
    }
    try {
      if (!(await stat(config.stateDir)).isDirectory()) problems.push(`stateDir: expected a directory, found another kind of file at ${config.stateDir}`)
    } catch {
      notes.push(`stateDir ${config.stateDir} does not exist yet (the agent creates it)`)
    }
    if (problems.length > 0) {
      process.stderr.write(`${file}: invalid:\n${problems.map(p => `  ${p}`).join('\n')}\n`)
      return 1
    }
    process.stdout.write(`${file}: ok\n${notes.map(n => `  ${n}`).join('\n')}\n`)
    return 0
  }
}
