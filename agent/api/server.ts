/**
 * The agent's local HTTP API (node:http, no framework): read-only JSON about
 * the mesh, Prometheus metrics and a live event stream. Every CLI command and
 * the console talk to it; it binds loopback unless configured otherwise.
 *
 * Requests must name the API by an IP literal or `localhost` in their Host
 * header: a web page cannot then reach a loopback API through DNS rebinding.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import type { Agent } from '../agent.ts'
import type { Logger } from '../log.ts'
import { isIpv4 } from './config.ts'
import { ApiListenError, BadRequestError } from './errors.ts'
import { EventStream, parseFilter, wantsSse } from './events.ts'
import { MetricsRecorder } from './metrics.ts'
import { ROUTES, type RouteContext } from './routes.ts'
import { parseIpv6 } from '../../lib/address.ts'

export interface ApiServerComponents {
  agent: Agent
  log: Logger
  clock?: () => number
}

export interface ApiServerInit {
  listen: string
  port: number
}

export class ApiServer {
  private readonly c: ApiServerComponents
  private readonly init: ApiServerInit
  private readonly now: () => number
  private readonly metrics: MetricsRecorder
  private readonly streams = new Set<EventStream>()
  private server: Server | undefined
  private startedAtMs = 0

  constructor (components: ApiServerComponents, init: ApiServerInit) {
    this.c = components
    this.init = init
    this.now = components.clock ?? Date.now
    this.metrics = new MetricsRecorder(components.agent)
  }

  /** Where it listens, as `[addr]:port` (the form --api takes). */
  get address (): string {
    const a = this.server?.address() as AddressInfo | null | undefined
    if (a === undefined || a === null) throw new Error('the API is not listening')
    return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`
  }

  async start (): Promise<void> {
    this.startedAtMs = this.now()
    this.metrics.start()
    const server = createServer((req, res) => this.handle(req, res))
    const where = `${this.init.listen.includes(':') ? `[${this.init.listen}]` : this.init.listen}:${this.init.port}`
    await new Promise<void>((resolve, reject) => {
      server.once('error', err => reject(new ApiListenError(where, err)))
      server.listen({ host: this.init.listen, port: this.init.port, ipv6Only: this.init.listen.includes(':') }, () => resolve())
    }).catch(err => { this.metrics.stop(); throw err })
    this.server = server
    this.c.log.info('api listening', { address: this.address })
  }

  async stop (): Promise<void> {
    const server = this.server
    this.server = undefined
    this.metrics.stop()
    for (const s of this.streams) s.close()
    this.streams.clear()
    if (server === undefined) return
    server.closeAllConnections()
    await new Promise<void>(resolve => server.close(() => resolve()))
  }

  private context (): RouteContext {
    return {
      agent: this.c.agent,
      // Read at each request: a staged topology takes over at a switch (docs/design.md §3.8).
      topology: this.c.agent.topology.topology,
      metrics: this.metrics,
      startedAtMs: this.startedAtMs,
      now: this.now,
      streams: () => this.streams.size,
      openStream: (req, res, url) => this.openStream(req, res, url)
    }
  }

  private handle (req: IncomingMessage, res: ServerResponse): void {
    try {
      if (!hostHeaderAllowed(req.headers.host)) return reply(res, 403, { error: 'the Host header must be an IP address or localhost' })
      if (req.method !== 'GET' && req.method !== 'HEAD') { res.setHeader('allow', 'GET, HEAD'); return reply(res, 405, { error: `${req.method ?? ''} is not allowed; the API is read-only` }) }
      const url = new URL(req.url ?? '/', 'http://api')
      if (url.pathname === '/') return reply(res, 200, { endpoints: Object.fromEntries(Object.entries(ROUTES).map(([p, r]) => [p, r.summary])) })
      const route = ROUTES[url.pathname]
      if (route === undefined) return reply(res, 404, { error: `no endpoint ${url.pathname}`, endpoints: Object.keys(ROUTES) })
      if (route.kind === 'raw') return route.answer(req, res, url, this.context())
      reply(res, 200, route.answer(url, this.context()))
    } catch (err) {
      if (err instanceof BadRequestError) return reply(res, 400, { error: err.message })
      this.c.log.error('api request failed', { url: req.url, error: (err as Error).stack ?? String(err) })
      if (!res.headersSent) reply(res, 500, { error: (err as Error).message })
      else res.destroy()
    }
  }

  private openStream (req: IncomingMessage, res: ServerResponse, url: URL): void {
    const filter = parseFilter(url)
    const stream = new EventStream(res, wantsSse(req, url), n => { this.metrics.streamLagged += n })
    this.streams.add(stream)
    stream.open(this.c.agent, filter, () => this.streams.delete(stream))
  }
}

function reply (res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body) + '\n'
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' })
  res.end(text)
}

export function hostHeaderAllowed (host: string | undefined): boolean {
  if (host === undefined) return true // HTTP/1.0 clients; a browser always sends one
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '')
  return name === 'localhost' || isIpv4(name) || parseIpv6(name) !== undefined
}
