/** The CLI's side of the control socket: one request, one reply. */
import { createConnection } from 'node:net'
import type { ControlReply, ControlRequest } from './protocol.ts'

export const CONTROL_CLIENT_TIMEOUT_MS = 20_000

export class ControlUnreachableError extends Error {
  constructor (path: string, cause: string) {
    super(`no agent answers on ${path} (${cause}); is it running (systemctl status heliotrope), and are you root?`)
    this.name = 'ControlUnreachableError'
  }
}

export async function controlRequest (path: string, req: ControlRequest, timeoutMs = CONTROL_CLIENT_TIMEOUT_MS): Promise<ControlReply> {
  return await new Promise<ControlReply>((resolve, reject) => {
    const socket = createConnection(path)
    let buf = ''
    let connected = false
    socket.setEncoding('utf8')
    socket.setTimeout(timeoutMs, () => { socket.destroy(); reject(new Error(`the agent did not answer within ${timeoutMs} ms`)) })
    socket.once('connect', () => { connected = true; socket.write(JSON.stringify(req) + '\n') })
    socket.on('data', (chunk: string) => { buf += chunk })
    socket.once('error', (err: NodeJS.ErrnoException) => {
      reject(connected ? err : new ControlUnreachableError(path, err.code ?? err.message))
    })
    socket.once('end', () => {
      try { resolve(JSON.parse(buf) as ControlReply) } catch { reject(new Error(`the agent's reply is not JSON: ${buf.slice(0, 200)}`)) }
    })
  })
}
