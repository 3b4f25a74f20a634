/**
 * How the operator commands reach the local agent: its control socket, found
 * through the agent's config (the same file systemd starts it with) or given
 * outright with --socket.
 */
import { readFile } from 'node:fs/promises'
import { controlRequest } from '../control-socket/client.ts'
import type { ControlReply, ControlRequest } from '../control-socket/protocol.ts'
import { parseConfig } from '../config.ts'
import type { Command, ParsedArgs } from './run.ts'

export const DEFAULT_CONFIG_PATH = '/etc/heliotrope/config.json'

export const CONTROL_OPTIONS: Command['options'] = {
  config: { type: 'string', short: 'c' },
  socket: { type: 'string' }
}

export const CONTROL_USAGE = `  --config FILE   the agent's config, to find its control socket (default ${DEFAULT_CONFIG_PATH})
  --socket PATH   the control socket itself`

export async function socketPath (args: ParsedArgs): Promise<string> {
  if (typeof args.values.socket === 'string') return args.values.socket
  const path = typeof args.values.config === 'string' ? args.values.config : DEFAULT_CONFIG_PATH
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) { throw new Error(`cannot read ${path}: ${(err as Error).message} (pass --config FILE or --socket PATH)`) }
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new Error(`${path} is not valid JSON: ${(err as Error).message}`) }
  return parseConfig(json).controlSocket!
}

/** Sends one request and prints the reply: exit 0 when the agent agreed, 1 when it refused. */
export async function sendControl (args: ParsedArgs, req: ControlRequest): Promise<{ code: number, reply: ControlReply }> {
  const reply = await controlRequest(await socketPath(args), req)
  if (reply.ok) process.stdout.write(reply.message + '\n')
  else process.stderr.write(`heliotrope ${req.op}: ${reply.error}\n`)
  return { code: reply.ok ? 0 : 1, reply }
}
