/**
 * The CLI's side of the local API: one small client that every command and
 * the console use, so "the agent is not running" reads the same everywhere.
 */
import { get, type IncomingMessage } from 'node:http'
import { pipe } from 'it-pipe'
import { parseIpv6 } from '../../lib/address.ts'
import { DEFAULT_API_LISTEN, DEFAULT_API_PORT, isIpv4 } from './config.ts'
import { AgentNotRunningError, ApiAddressError, ApiResponseError } from './errors.ts'
import { parseJsonLines, splitLines } from './ndjson.ts'
import type { StreamEvent } from './types.ts'
import { definedOnly } from '../../lib/defined.ts'

/** A request that has not answered by then means the agent is stuck or absent. */
export const DEFAULT_API_TIMEOUT_MS = 5_000
/** The environment variable that picks the agent when --api is not given. */
export const API_ADDRESS_ENV = 'HELIOTROPE_API'
export const DEFAULT_API_ADDRESS = `[${DEFAULT_API_LISTEN}]:${DEFAULT_API_PORT}`

export interface ApiAddress {
  host: string
  port: number
}

/** Reads `[v6]:port`, `v4:port`, `localhost:port`, a bare port (on [::1]), with or without http://. */
export function parseApiAddress (text: string): ApiAddress {
  const s = text.trim().replace(/^http:\/\//, '').replace(/\/$/, '')
  const port = (p: string): number => {
    const n = Number(p)
    if (!/^\d{1,5}$/.test(p) || n < 1 || n > 65535) throw new ApiAddressError(text)
    return n
  }
  if (/^\d+$/.test(s)) return { host: DEFAULT_API_LISTEN, port: port(s) }
  const v6 = /^\[([^\]]+)\]:(\d+)$/.exec(s)
  if (v6 !== null) {
    if (parseIpv6(v6[1]!) === undefined) throw new ApiAddressError(text)
    return { host: v6[1]!, port: port(v6[2]!) }
  }
  const other = /^([^:[\]]+):(\d+)$/.exec(s)
  if (other !== null && (isIpv4(other[1]!) || other[1] === 'localhost')) return { host: other[1]!, port: port(other[2]!) }
  throw new ApiAddressError(text)
}

export function formatApiAddress (a: ApiAddress): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`
}

export interface StreamQuery {
  types?: string[]
  topics?: string[]
}

export class ApiClient {
  readonly address: ApiAddress
  private readonly timeoutMs: number

  constructor (address: ApiAddress, opts: { timeoutMs?: number } = {}) {
    this.address = address
    this.timeoutMs = opts.timeoutMs ?? DEFAULT_API_TIMEOUT_MS
  }

  get where (): string {
    return formatApiAddress(this.address)
  }

  async json<T> (path: string): Promise<T> {
    const text = await this.text(path)
    return JSON.parse(text) as T
  }

  async text (path: string): Promise<string> {
    const res = await this.open(path, 'application/json')
    try {
      res.setEncoding('utf8')
      let body = ''
      for await (const chunk of res) body += chunk as string
      if (res.statusCode !== 200) throw new ApiResponseError(path, res.statusCode ?? 0, body)
      return body
    } finally {
      res.destroy()
    }
  }

  /**
   * The agent's events, one at a time, until the agent closes the stream or
   * `signal` aborts. The first event is the stream's `hello`.
   */
  async * events (query: StreamQuery = {}, signal?: AbortSignal): AsyncGenerator<StreamEvent> {
    const params = new URLSearchParams()
    if (query.types !== undefined && query.types.length > 0) params.set('types', query.types.join(','))
    if (query.topics !== undefined && query.topics.length > 0) params.set('topics', query.topics.join(','))
    const path = `/events${params.size > 0 ? `?${params.toString()}` : ''}`
    const res = await this.open(path, 'application/x-ndjson', signal)
    if (res.statusCode !== 200) {
      res.setEncoding('utf8')
      let body = ''
      for await (const chunk of res) body += chunk as string
      throw new ApiResponseError(path, res.statusCode ?? 0, body)
    }
    const onAbort = (): void => { res.destroy() }
    signal?.addEventListener('abort', onAbort, { once: true })
    try {
      res.setEncoding('utf8')
      // With an encoding set, the response yields strings.
      yield * pipe(res as AsyncIterable<string>, splitLines, parseJsonLines<StreamEvent>)
    } catch (err) {
      // A stream cut by our own abort is the normal end; anything else is news.
      if (signal?.aborted !== true) throw err
    } finally {
      signal?.removeEventListener('abort', onAbort)
      res.destroy()
    }
  }

  private async open (path: string, accept: string, signal?: AbortSignal): Promise<IncomingMessage> {
    const where = this.where
    return await new Promise<IncomingMessage>((resolve, reject) => {
      const req = get({ host: this.address.host, port: this.address.port, path, headers: { accept }, ...definedOnly({ signal }) }, res => {
        // Past the headers, a stream may stay quiet for long: only the connect and the first answer are timed.
        req.setTimeout(0)
        resolve(res)
      })
      req.setTimeout(this.timeoutMs, () => req.destroy(Object.assign(new Error(`no answer within ${this.timeoutMs} ms`), { code: 'ETIMEDOUT' })))
      req.on('error', (err: NodeJS.ErrnoException) => {
        if (signal?.aborted === true) { reject(err); return }
        const reachable = err.code === undefined || !['ECONNREFUSED', 'ECONNRESET', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL', 'ETIMEDOUT', 'ENOTFOUND'].includes(err.code)
        reject(reachable ? err : new AgentNotRunningError(where, err.code === 'ECONNREFUSED' ? 'connection refused' : err.message))
      })
    })
  }
}
