/** What an agent reports as it runs: for the API's monitor stream, the console and benchmarks. */
import type { ClusterEvent } from './cluster/index.ts'

export type AgentEvent =
  | ClusterEvent
  | { type: 'plan-accepted', round: number, planner: string, rank: number, atMs: number }
  /** A finished one (done, failed) carries what the driver measured: its time, the guest's pause, the bytes sent. */
  | { type: 'migration', vm: string, from: string, to: string, phase: 'started' | 'done' | 'failed', detail?: string, totalMs?: number, downtimeMs?: number, bytes?: number, atMs: number }

export type AgentListener = (event: AgentEvent) => void

export class EventStream {
  private readonly listeners = new Set<AgentListener>()

  /** Subscribes to what the agent does; returns the unsubscribe function. */
  observe (listener: AgentListener): () => void {
    this.listeners.add(listener)
    return () => this.listeners.delete(listener)
  }

  emit (event: AgentEvent): void {
    for (const l of this.listeners) {
      try { l(event) } catch { /* an observer must not break the agent */ }
    }
  }
}
