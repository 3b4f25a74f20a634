/** `heliotrope config check FILE`: validates a config and the files it names, before a restart. */
import { readFile, stat } from 'node:fs/promises'
import { type Issue, ValidationError } from '../../lib/errors.ts'
import { parseTopology } from '../../lib/topology.ts'
import { type AgentConfig, parseConfig } from '../config.ts'
import { addressIssues } from '../config-addresses.ts'
import { describePsk, readPsk } from '../net/keys.ts'
import { UsageError } from './errors.ts'
import type { Command } from './run.ts'

export const configCommand: Command = {
  name: 'config',
  summary: 'check a config file (heliotrope config check FILE)',
  usage: `Usage: heliotrope config check FILE

Validates FILE as the agent would (every bad field with the form expected and
the value found; the JSON Schema is agent/config.schema.json), its peer ids
and multiaddrs as libp2p reads them (IPv6 listen addresses; bootstrap
addresses ending in /p2p/<a member's peer id>), and the files it names: the
pre-shared key (readable, mode 0600, well formed) and the topology (valid,
and naming this host's DC). Every problem is listed at once. Exit 0 when all
is well, 1 otherwise.
`,
  options: {},
  async run (args) {
    const [sub, file, ...rest] = args.positionals
    if (sub !== 'check') throw new UsageError(sub === undefined ? 'a subcommand is required: check' : `unknown subcommand ${JSON.stringify(sub)} (only check)`)
    if (file === undefined || rest.length > 0) throw new UsageError('check takes one FILE')
    let raw: unknown
    try { raw = JSON.parse(await readFile(file, 'utf8')) } catch (err) {
      process.stderr.write(`${file}: ${(err as Error).message}\n`)
      return 1
    }
    // Every problem at once: the schema's, the addresses', and the named
    // files' (checked from the raw values even when other fields are bad).
    const problems: string[] = []
    let config: AgentConfig | undefined
    try {
      config = parseConfig(raw)
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err
      problems.push(...err.issues.map(issueLine))
    }
    problems.push(...addressIssues(raw).map(issueLine))
    const fields = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>
    const pskFile = config?.pskFile ?? (typeof fields.pskFile === 'string' ? fields.pskFile : undefined)
    const topologyFile = config?.topologyFile ?? (typeof fields.topologyFile === 'string' ? fields.topologyFile : undefined)
    const dc = config?.dc ?? (typeof fields.dc === 'string' ? fields.dc : undefined)
    const notes: string[] = config === undefined ? [] : [`cluster ${config.cluster}, host ${config.host} (dc ${config.dc}), mode ${config.mode}, ${config.members.length} member(s), planner ${config.planner.name}`]
    if (pskFile !== undefined) {
      try {
        notes.push(`pskFile ${pskFile}: ${describePsk(await readPsk(pskFile))}, mode 0600`)
      } catch (err) {
        problems.push(`pskFile: expected a readable pre-shared key file with mode 0600, found ${(err as Error).message}`)
      }
    }
    if (topologyFile !== undefined) {
      try {
        const topology = parseTopology(JSON.parse(await readFile(topologyFile, 'utf8')))
        if (dc !== undefined && !topology.dcs.some(d => d.id === dc)) problems.push(`dc: expected a DC of ${topologyFile} (${topology.dcs.map(d => d.id).join(', ')}), found ${JSON.stringify(dc)}`)
        else notes.push(`topologyFile ${topologyFile}: ${topology.dcs.length} DC(s), ${topology.links.length} link(s)`)
      } catch (err) {
        problems.push(`topologyFile: expected a valid topology file, found ${(err as Error).message}`)
      }
    }
    if (config === undefined) {
      process.stderr.write(`${file}: invalid config:\n${problems.map(p => `  ${p}`).join('\n')}\n`)
      return 1
    }
    try {
      if (!(await stat(config.stateDir)).isDirectory()) problems.push(`stateDir: expected a directory, found another kind of file at ${config.stateDir}`)
    } catch {
      notes.push(`stateDir ${config.stateDir} does not exist yet (the agent creates it)`)
    }
    if (problems.length > 0) {
      process.stderr.write(`${file}: invalid config:\n${problems.map(p => `  ${p}`).join('\n')}\n`)
      return 1
    }
    process.stdout.write(`${file}: ok\n${notes.map(n => `  ${n}`).join('\n')}\n`)
    return 0
  }
}

function issueLine (i: Issue): string {
  return `${i.path}: expected ${i.expected}, found ${i.found}`
}
