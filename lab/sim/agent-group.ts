/**
 * A process that runs some of a sim cluster's agents: forked by
 * process-cluster.ts, so a cluster's agents spread over processes (and the
 * machine's cores) the way hosts have CPUs of their own. It starts the
 * agents it is given from the cluster directory's configs, sends what they
 * observe (compactly, in batches) and answers the parent over the IPC channel.
 *
 * Messages are GroupRequest in, GroupReply out. When the channel closes
 * (the parent died) the agents halt and the process exits.
 */
import type { Agent } from '../../agent/agent.ts'
import type { AgentConfig } from '../../agent/config.ts'
import { startAgent } from '../../agent/daemon.ts'
import { silentLogger } from '../../agent/log.ts'
import { LAB_DRIVERS } from '../drivers/index.ts'
import type { NodeInit } from '../../agent/net/node.ts'
import { compactEvent, type ObservedEvent } from './observe.ts'
import { presizePnetCipherMemory } from './pnet-memory.ts'
import { ResourceMeter } from './resources.ts'
import { startCpuProfile } from './cpu-profile.ts'
import { withoutOwn } from './cluster.ts'
import { relayOf, type RelayTotals } from './relay-totals.ts'

export type GroupRequest =
  | { type: 'start', configs: AgentConfig[], bootstrap: string[], node: Partial<NodeInit>, batchSize: number }
  /** How many members the agent that sees the fewest sees live. */
  | { type: 'live' }
  /** CPU and memory of this process so far. */
  | { type: 'usage' }
  /** Halt every agent and send what they observed. */
  | { type: 'stop' }

export type GroupReply =
  | { type: 'started', host: string, addresses: string[] }
  | { type: 'start-failed', host: string, error: string }
  | { type: 'live', min: number, max: number }
  | { type: 'usage', cpuMs: number, peakRssBytes: number, relay: RelayTotals }
  /** What the agents observed since the last batch, as [host, event]. */
  | { type: 'events', events: Array<[string, ObservedEvent]> }
  | { type: 'stopped' }

/** Observed events go to the parent in batches this often (one IPC message per event would cost more than the event). */
const FLUSH_MS = 200

const agents = new Map<string, Agent>()
let events: Array<[string, ObservedEvent]> = []
const flush = (): void => {
  if (events.length === 0) return
  send({ type: 'events', events })
  events = []
}
const flusher = setInterval(flush, FLUSH_MS)
const meter = new ResourceMeter()
const profile = await startCpuProfile()
/** Above this many agents in a process, its pnet cipher memory is grown first (measured: 13 tiered agents a process at 200 agents hit the cap). */
const PRESIZE_ABOVE_AGENTS = 8

function send (reply: GroupReply, then?: () => void): void {
  process.send?.(reply, undefined, {}, () => then?.())
}

async function start (req: Extract<GroupRequest, { type: 'start' }>): Promise<void> {
  // Only many agents in one process need the room (see pnet-memory.ts); it costs 16 MiB.
  if (req.configs.length > PRESIZE_ABOVE_AGENTS) presizePnetCipherMemory()
  for (let i = 0; i < req.configs.length; i += req.batchSize) {
    await Promise.all(req.configs.slice(i, i + req.batchSize).map(async config => {
      try {
        const agent = await startAgent({ ...config, bootstrap: withoutOwn(req.bootstrap, config) }, { log: silentLogger(), node: req.node, drivers: LAB_DRIVERS })
        agents.set(config.host, agent)
        agent.observe(e => {
          const c = compactEvent(e)
          if (c !== undefined) events.push([config.host, c])
        })
        send({ type: 'started', host: config.host, addresses: agent.addresses() })
      } catch (err) {
        send({ type: 'start-failed', host: config.host, error: (err as Error).message })
      }
    }))
  }
}

async function stop (): Promise<void> {
  await Promise.all([...agents.values()].map(async a => await a.halt().catch(() => undefined)))
  agents.clear()
}

process.on('message', (msg: GroupRequest) => {
  switch (msg.type) {
    case 'start':
      void start(msg)
      return
    case 'live': {
      const now = Date.now()
      const live = [...agents.values()].map(a => a.view.live(now).length)
      send({ type: 'live', min: Math.min(...live), max: Math.max(...live) })
      return
    }
    case 'usage': {
      const use = meter.read()
      send({ type: 'usage', cpuMs: use.cpuMs, peakRssBytes: use.peakRssBytes, relay: relayOf(agents.values()) })
      return
    }
    case 'stop':
      void stop().then(async () => {
        await profile?.stop()
        meter.stop()
        clearInterval(flusher)
        flush()
        // Sent: exit at once (a halted node may leave a timer behind; nothing is left to wait for).
        send({ type: 'stopped' }, () => process.exit(0))
      })
  }
})

process.on('disconnect', () => {
  void stop().finally(() => process.exit(0))
})
