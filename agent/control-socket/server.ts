/**
 * The agent's local control socket: a unix socket in the state directory,
 * mode 0600, so only the agent's own user (root) can approve, pin or drain.
 * The `heliotrope approve|pin|unpin|drain|undrain` commands talk to it; the
 * HTTP API (agent/api/) can call the same handler.
 */
import { chmod, lstat, unlink } from 'node:fs/promises'
import { createConnection, createServer, type Server, type Socket } from 'node:net'
import type { Logger } from '../log.ts'
import { type ControlHandler, type ControlReply, MAX_REQUEST_BYTES, parseControlLine } from './protocol.ts'

/** A client that says nothing for this long is dropped. */
export const CONTROL_IDLE_MS = 30_000
export const CONTROL_SOCKET_MODE = 0o600

export class ControlServer {
  private readonly handler: ControlHandler
  private readonly log: Logger
  readonly path: string
  private server: Server | undefined

  constructor (components: { handler: ControlHandler, log: Logger }, init: { path: string }) {
    this.handler = components.handler
    this.log = components.log
    this.path = init.path
  }

  async start (): Promise<void> {
    await this.clearStale()
    const server = createServer(socket => { this.serve(socket) })
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.path, () => { server.off('error', reject); resolve() })
    })
    this.server = server
    await chmod(this.path, CONTROL_SOCKET_MODE)
    this.log.debug('control socket listening', { path: this.path })
  }

  async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    if (server === undefined) return
    await new Promise<void>(resolve => server.close(() => resolve()))
    await unlink(this.path).catch(() => undefined)
  }

  /** A socket file left by a crash is removed; one an agent still answers on is an error. */
  private async clearStale (): Promise<void> {
    try {
      if (!(await lstat(this.path)).isSocket()) throw new Error(`${this.path} exists and is not a socket; remove it or set controlSocket`)
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
    const alive = await new Promise<boolean>(resolve => {
      const s = createConnection(this.path)
      s.once('connect', () => { s.destroy(); resolve(true) })
      s.once('error', () => resolve(false))
    })
    if (alive) throw new Error(`another agent answers on ${this.path}; is heliotrope already running on this host?`)
    await unlink(this.path)
  }

  private serve (socket: Socket): void {
    let buf = ''
    let answered = false
    socket.setEncoding('utf8')
    socket.setTimeout(CONTROL_IDLE_MS, () => socket.destroy())
    socket.on('error', () => undefined)
    const reply = (r: ControlReply): void => {
      answered = true
      socket.end(JSON.stringify(r) + '\n')
    }
    socket.on('data', (chunk: string) => {
      if (answered) return
      buf += chunk
      if (buf.length > MAX_REQUEST_BYTES) { reply({ ok: false, error: `request over ${MAX_REQUEST_BYTES} bytes` }); return }
      const nl = buf.indexOf('\n')
      if (nl < 0) return
      answered = true
      const req = parseControlLine(buf.slice(0, nl))
      if (typeof req === 'string') { reply({ ok: false, error: req }); return }
      this.handler.handle(req).then(reply, (err: unknown) => {
        this.log.warn('control request failed', { op: req.op, error: (err as Error).message })
        reply({ ok: false, error: (err as Error).message })
      })
    })
  }
}
