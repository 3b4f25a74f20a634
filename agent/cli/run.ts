/**
 * Runs one CLI command with the conventions every command shares: `--help`
 * prints usage, usage mistakes exit 2 with a one-line reason, validation
 * errors list every problem, anything else is a failure with exit 1.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { ValidationError } from '../../lib/errors.ts'
import { UsageError } from './errors.ts'

export interface Command {
  name: string
  summary: string
  usage: string
  options: NonNullable<ParseArgsConfig['options']>
  run: (args: ParsedArgs) => Promise<number> | number
}

export interface ParsedArgs {
  values: Record<string, string | boolean | undefined>
  positionals: string[]
}

export async function runCommand (cmd: Command, argv: string[]): Promise<number> {
  try {
    const parsed = parseArgs({ args: argv, options: { ...cmd.options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true })
    if (parsed.values.help === true) { process.stdout.write(cmd.usage.trimEnd() + '\n'); return 0 }
    return await cmd.run({ values: parsed.values as ParsedArgs['values'], positionals: parsed.positionals })
  } catch (err) {
    if (err instanceof UsageError || (err instanceof TypeError && 'code' in err && String(err.code).startsWith('ERR_PARSE_ARGS'))) {
      process.stderr.write(`heliotrope ${cmd.name}: ${err.message}\n\n${cmd.usage.trimEnd()}\n`)
      return 2
    }
    if (err instanceof ValidationError) { process.stderr.write(`heliotrope ${cmd.name}: ${err.message}\n`); return 1 }
    process.stderr.write(`heliotrope ${cmd.name}: ${err instanceof Error ? err.message : String(err)}\n`)
    return 1
  }
}

/** Reads a numeric option; a word where a number belongs is a usage error. */
export function numberOption (args: ParsedArgs, name: string, fallback: number, opts: { integer?: boolean, min?: number } = {}): number {
  const raw = args.values[name]
  if (raw === undefined) return fallback
  const n = Number(raw)
  if (typeof raw !== 'string' || raw.trim() === '' || !Number.isFinite(n) || (opts.integer === true && !Number.isInteger(n)) || (opts.min !== undefined && n < opts.min)) {
    throw new UsageError(`--${name} expects ${opts.integer === true ? 'an integer' : 'a number'}${opts.min !== undefined ? ` >= ${opts.min}` : ''}, got ${JSON.stringify(raw)}`)
  }
  return n
}

/** Splits a comma list option, checking each item against `allowed`. */
export function listOption (args: ParsedArgs, name: string, allowed: readonly string[]): string[] | undefined {
  const raw = args.values[name]
  if (raw === undefined) return undefined
  const items = String(raw).split(',').map(s => s.trim()).filter(s => s !== '')
  const bad = items.filter(i => !allowed.includes(i))
  if (bad.length > 0) throw new UsageError(`--${name}: unknown ${bad.join(', ')}; expected some of ${allowed.join(', ')}`)
  return items
}

/** Dispatches `argv[0]` to one of `commands`, or prints the list. */
export async function dispatch (title: string, commands: Command[], argv: string[]): Promise<number> {
  const [name, ...rest] = argv
  const cmd = commands.find(c => c.name === name)
  if (cmd === undefined) {
    const list = commands.map(c => `  ${c.name.padEnd(12)} ${c.summary}`).join('\n')
    const help = name === undefined || name === '--help' || name === '-h' || name === 'help'
    const out = `${title}\n\nCommands:\n${list}\n\nRun \`heliotrope COMMAND --help\` for a command's options.\n`
    if (help) { process.stdout.write(out); return 0 }
    process.stderr.write(`heliotrope: unknown command ${JSON.stringify(name)}\n\n${out}`)
    return 2
  }
  return runCommand(cmd, rest)
}
