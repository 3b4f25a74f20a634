/**
 * How the operator commands send a change to an agent: one request on its
 * control socket (found as reach.ts says), the reply printed.
 */
import { controlRequest } from '../control-socket/client.ts'
import type { ControlReply, ControlRequest } from '../control-socket/protocol.ts'
import { controlSocket } from './reach.ts'
import type { ParsedArgs } from './run.ts'

/** Sends one request and prints the reply: exit 0 when the agent agreed, 1 when it refused. */
export async function sendControl (args: ParsedArgs, req: ControlRequest): Promise<{ code: number, reply: ControlReply }> {
  const reply = await controlRequest(await controlSocket(args), req)
  if (reply.ok) process.stdout.write(reply.message + '\n')
  else process.stderr.write(`heliotrope ${req.op}: ${reply.error}\n`)
  return { code: reply.ok ? 0 : 1, reply }
}
