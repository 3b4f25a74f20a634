/**
 * The downtime probe's logic: a numbered UDP datagram to a VM's echo port
 * every `intervalMs`; the longest gap between two echoes is the outage.
 * Used in process by the lab driver when the agent runs in the source
 * host's namespace, and by probe.ts (a child process) otherwise. Node's
 * type stripping runs it: node: imports and erasable types only.
 */
import { createSocket, type Socket } from 'node:dgram'

export interface ProbeSummary {
  sent: number
  received: number
  /** The longest time between two consecutive echoes, in ms. */
  maxGapMs: number
}

export class EchoProbe {
  private readonly socket: Socket
  private readonly timer: ReturnType<typeof setInterval>
  private seq = 0
  private received = 0
  private last: number | undefined
  private maxGapMs = 0
  private marked = false
  private readonly waiters: Array<{ what: 'ready' | 'resumed', resolve: () => void }> = []
  isReady = false
  hasResumed = false

  constructor (address: string, port: number, intervalMs: number) {
    this.socket = createSocket('udp6')
    this.socket.on('message', () => this.echo())
    // A send into a moving link may fail; the gap in echoes is what we measure.
    this.socket.on('error', () => {})
    const buf = Buffer.alloc(8)
    this.timer = setInterval(() => {
      buf.writeBigUInt64BE(BigInt(this.seq++))
      this.socket.send(buf, port, address, () => {})
    }, intervalMs)
  }

  private echo (): void {
    const now = performance.now()
    this.received++
    if (this.last !== undefined) this.maxGapMs = Math.max(this.maxGapMs, now - this.last)
    this.last = now
    if (!this.isReady) this.isReady = true
    if (this.marked && !this.hasResumed) this.hasResumed = true
    for (const w of this.waiters.splice(0)) {
      if ((w.what === 'ready' && this.isReady) || (w.what === 'resumed' && this.hasResumed)) w.resolve()
      else this.waiters.push(w)
    }
  }

  /** Resolves true at the first echo (or at once if seen), false after `ms`. */
  ready (ms: number): Promise<boolean> {
    return this.wait('ready', ms)
  }

  /** From now on, the next echo means the VM is reachable again. */
  mark (): void {
    this.marked = true
  }

  resumed (ms: number): Promise<boolean> {
    return this.wait('resumed', ms)
  }

  private wait (what: 'ready' | 'resumed', ms: number): Promise<boolean> {
    if (what === 'ready' ? this.isReady : this.hasResumed) return Promise.resolve(true)
    return new Promise(resolve => {
      const t = setTimeout(() => resolve(false), ms)
      this.waiters.push({ what, resolve: () => { clearTimeout(t); resolve(true) } })
    })
  }

  stop (): ProbeSummary {
    clearInterval(this.timer)
    try { this.socket.close() } catch { /* closed already */ }
    return { sent: this.seq, received: this.received, maxGapMs: Math.round(this.maxGapMs * 10) / 10 }
  }
}
