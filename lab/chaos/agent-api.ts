/**
 * One lab agent's local API, reached from the machine's own namespace
 * through api-proxy.ts (a unix socket in the lab's directory forwarded to
 * [::1]:7878 inside the host's namespace): JSON GETs (/status, /rounds,
 * /view) and the /events stream, which reconnects by itself when the agent
 * was killed and started again.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { request } from 'node:http'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { tool } from '../drivers/lab-host/exec.ts'
import { DEFAULT_API_PORT } from '../../agent/api/config.ts'

const PROXY_SCRIPT = fileURLToPath(new URL('./api-proxy.ts', import.meta.url))
/** A busy two-core machine starts node in about a second; leave room. */
export const PROXY_READY_TIMEOUT_MS = 15_000
export const API_TIMEOUT_MS = 3_000
/** How soon a closed event stream is opened again (the agent is down or restarting). */
export const STREAM_RETRY_MS = 300
/** The API checks the Host header against DNS rebinding: name it by its loopback literal. */
const HOST_HEADER = `[::1]:${DEFAULT_API_PORT}`

export class AgentApi {
  private proxy: ChildProcess | undefined
  private closed = false
  private readonly streams = new Set<() => void>()

  readonly host: string
  readonly ns: string
  readonly socketPath: string
  constructor (host: string, ns: string, socketPath: string) {
    this.host = host
    this.ns = ns
    this.socketPath = socketPath
  }

  /** Starts the proxy in the host's namespace; resolves when it listens. */
  async start (): Promise<void> {
    const child = spawn(tool('ip'), ['netns', 'exec', this.ns, process.execPath, '--disable-warning=ExperimentalWarning', PROXY_SCRIPT, this.socketPath, String(DEFAULT_API_PORT)], { stdio: ['ignore', 'pipe', 'ignore'] })
    this.proxy = child
    child.on('error', () => {})
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`the API proxy of ${this.host} did not start in ${PROXY_READY_TIMEOUT_MS / 1000} s`)), PROXY_READY_TIMEOUT_MS)
      createInterface({ input: child.stdout! }).once('line', () => { clearTimeout(t); resolve() })
      child.once('exit', (code) => { clearTimeout(t); reject(new Error(`the API proxy of ${this.host} exited (${String(code)})`)) })
    })
  }

  /** GET a JSON endpoint; rejects when the agent is down or slow. */
  async get<T> (path: string, timeoutMs = API_TIMEOUT_MS): Promise<T> {
    return await new Promise<T>((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path, headers: { host: HOST_HEADER }, timeout: timeoutMs }, res => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => { body += d })
        res.on('end', () => {
          if (res.statusCode !== 200) { reject(new Error(`${this.host} ${path}: HTTP ${String(res.statusCode)} ${body.slice(0, 200)}`)); return }
          try { resolve(JSON.parse(body) as T) } catch (err) { reject(err) }
        })
        res.on('error', reject)
      })
      req.on('timeout', () => req.destroy(new Error(`${this.host} ${path}: no answer in ${timeoutMs} ms`)))
      req.on('error', reject)
      req.end()
    })
  }

  /** Follows an NDJSON stream (e.g. /events?types=migration), opening it again whenever it ends, until the returned stop is called. */
  follow (path: string, onRecord: (record: Record<string, unknown>) => void): () => void {
    let stopped = false
    let current: ReturnType<typeof request> | undefined
    const open = (): void => {
      if (stopped || this.closed) return
      const req = request({ socketPath: this.socketPath, path, headers: { host: HOST_HEADER } }, res => {
        const lines = createInterface({ input: res })
        // The agent dying mid-stream aborts the response: open it again, never throw.
        res.on('error', retry)
        lines.on('error', retry)
        lines.on('line', line => {
          try { onRecord(JSON.parse(line) as Record<string, unknown>) } catch { /* a partial line as the agent died */ }
        })
        res.on('close', retry)
      })
      req.on('error', retry)
      req.end()
      current = req
    }
    let waiting = false
    function retry (): void {
      if (waiting || stopped) return
      waiting = true
      setTimeout(() => { waiting = false; open() }, STREAM_RETRY_MS)
    }
    open()
    const stop = (): void => { stopped = true; current?.destroy(); this.streams.delete(stop) }
    this.streams.add(stop)
    return stop
  }

  stop (): void {
    this.closed = true
    for (const s of [...this.streams]) s()
    if (this.proxy !== undefined && this.proxy.exitCode === null) this.proxy.kill('SIGTERM')
  }
}
