/**
 * The API's endpoints: each path and what answers it. JSON endpoints return
 * a value; /events and /metrics write their own responses.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import type { Topology } from '../../lib/topology.ts'
import type { Agent } from '../agent.ts'
import { BadRequestError } from './errors.ts'
import type { MetricsRecorder } from './metrics.ts'
import { PROMETHEUS_CONTENT_TYPE } from './prometheus.ts'
import { buildPlan, buildRounds, DEFAULT_ROUNDS_LIMIT } from './rounds.ts'
import { buildStatus } from './status.ts'
import { buildView } from './view.ts'

/** The most rounds /rounds returns at once (the agent keeps about 64). */
export const MAX_ROUNDS_LIMIT = 64

export interface RouteContext {
  agent: Agent
  topology: Topology
  metrics: MetricsRecorder
  startedAtMs: number
  now: () => number
  streams: () => number
  openStream: (req: IncomingMessage, res: ServerResponse, url: URL) => void
}

export type Route =
  | { kind: 'json', summary: string, answer: (url: URL, ctx: RouteContext) => unknown }
  | { kind: 'raw', summary: string, answer: (req: IncomingMessage, res: ServerResponse, url: URL, ctx: RouteContext) => void }

export const ROUTES: Readonly<Record<string, Route>> = {
  '/status': { kind: 'json', summary: 'host, peer id, DC, round, mode, members, the current planner, uptime', answer: (_u, c) => buildStatus(c.agent, c.startedAtMs, c.now()) },
  '/view': { kind: 'json', summary: 'members with DC, VMs, last seen, up/down, digests; drops by reason; link loads', answer: (_u, c) => buildView(c.agent, c.topology, c.now()) },
  '/plan': { kind: 'json', summary: 'the current plan: the newest round\'s accepted plan, and the one awaiting approval (mode approve)', answer: (_u, c) => buildPlan(c.agent, c.now()) },
  '/rounds': { kind: 'json', summary: 'round history: ranking, planner, plan, cost before/after, why each VM moved (?limit=N)', answer: (u, c) => buildRounds(c.agent, c.now(), readLimit(u)) },
  '/metrics': {
    kind: 'raw',
    summary: 'Prometheus text exposition',
    answer: (_req, res, _u, c) => {
      const body = c.metrics.render(c.topology, c.startedAtMs, c.now(), c.streams())
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' })
      res.end(body)
    }
  },
  '/events': { kind: 'raw', summary: 'live events: NDJSON, or SSE (Accept: text/event-stream); ?types=...&topics=...', answer: (req, res, u, c) => c.openStream(req, res, u) }
}

function readLimit (url: URL): number {
  const raw = url.searchParams.get('limit')
  if (raw === null) return DEFAULT_ROUNDS_LIMIT
  const n = Number(raw)
  if (raw.trim() === '' || !Number.isInteger(n) || n < 1 || n > MAX_ROUNDS_LIMIT) throw new BadRequestError(`limit: expected an integer from 1 to ${MAX_ROUNDS_LIMIT}, got ${JSON.stringify(raw)}`)
  return n
}
