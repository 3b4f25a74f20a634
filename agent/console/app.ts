/**
 * The gossip debug console: a full-screen view of one agent's mesh, drawn
 * with plain ANSI codes. It polls the agent's API for status, view and
 * rounds, and follows its event stream; it reconnects on its own when the
 * agent goes away and comes back.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import type { ApiClient } from '../api/client.ts'
import type { RoundsResponse, StatusResponse, StreamEvent, ViewResponse } from '../api/types.ts'
import { parseKeys, type Key } from './keys.ts'
import { PANES } from './panes/index.ts'
import { ENTER_SCREEN, frame, LEAVE_SCREEN, seg, type Line } from './screen.ts'
import { ConsoleState, EVENT_HISTORY } from './state.ts'

export const DEFAULT_REFRESH_MS = 1000
/** Redraws are coalesced to at most one per this interval. */
export const FRAME_MS = 100
export const RECONNECT_MS = 1000
export const KEY_HELP = '1-6/Tab panes  p/space pause  / filter  c clear filter  Up/Down/PgUp/PgDn scroll  q quit'

export interface ConsoleInit {
  client: ApiClient
  input: NodeJS.ReadStream
  output: NodeJS.WriteStream
  refreshMs?: number
}

interface Snapshot { status: StatusResponse, view: ViewResponse, rounds: RoundsResponse }

export class ConsoleApp {
  private readonly init: ConsoleInit
  private readonly state = new ConsoleState()
  private readonly abort = new AbortController()
  private pane = 0
  private paused = false
  private filter = ''
  /** The filter being typed, while the filter prompt is open. */
  private draft: string | undefined
  private scroll = 0
  private pendingEvents: StreamEvent[] = []
  private pendingSnapshot: Snapshot | undefined
  private drawTimer: ReturnType<typeof setTimeout> | undefined
  private done: (() => void) | undefined
  private readonly onData = (d: Buffer | string): void => { for (const k of parseKeys(d.toString())) this.key(k) }
  private readonly onResize = (): void => this.draw()

  constructor (init: ConsoleInit) {
    this.init = init
  }

  /** Runs until the user quits (q, Ctrl-C) or stop() is called. */
  async run (): Promise<void> {
    const { input, output } = this.init
    output.write(ENTER_SCREEN)
    if (input.isTTY) input.setRawMode(true)
    input.on('data', this.onData)
    input.resume()
    output.on('resize', this.onResize)
    const finished = new Promise<void>(resolve => { this.done = resolve })
    void this.pollLoop()
    void this.streamLoop()
    this.draw()
    try {
      await finished
    } finally {
      this.abort.abort()
      if (this.drawTimer !== undefined) clearTimeout(this.drawTimer)
      input.off('data', this.onData)
      output.off('resize', this.onResize)
      if (input.isTTY) input.setRawMode(false)
      input.pause()
      output.write(LEAVE_SCREEN)
    }
  }

  stop (): void {
    this.done?.()
  }

  private async pollLoop (): Promise<void> {
    const { client } = this.init
    while (!this.abort.signal.aborted) {
      try {
        const [status, view, rounds] = await Promise.all([
          client.json<StatusResponse>('/status'),
          client.json<ViewResponse>('/view'),
          client.json<RoundsResponse>('/rounds?limit=20')
        ])
        this.state.error = undefined
        if (this.paused) this.pendingSnapshot = { status, view, rounds }
        else this.apply({ status, view, rounds })
      } catch (err) {
        this.state.error = (err as Error).message
      }
      this.schedule()
      await sleep(this.init.refreshMs ?? DEFAULT_REFRESH_MS, undefined, { signal: this.abort.signal }).catch(() => undefined)
    }
  }

  private async streamLoop (): Promise<void> {
    while (!this.abort.signal.aborted) {
      try {
        for await (const e of this.init.client.events({}, this.abort.signal)) {
          this.state.streamConnected = true
          if (this.paused) {
            this.pendingEvents.push(e)
            if (this.pendingEvents.length > EVENT_HISTORY) this.pendingEvents.splice(0, this.pendingEvents.length - EVENT_HISTORY)
          } else {
            this.state.ingest(e)
          }
          this.schedule()
        }
      } catch {
        // The poll loop reports why the agent is unreachable; here we only retry.
      }
      this.state.streamConnected = false
      this.schedule()
      await sleep(RECONNECT_MS, undefined, { signal: this.abort.signal }).catch(() => undefined)
    }
  }

  private apply (s: Snapshot): void {
    this.state.status = s.status
    this.state.view = s.view
    this.state.rounds = s.rounds
  }

  private key (k: Key): void {
    if (this.draft !== undefined) return this.filterKey(k)
    if (k.name === 'ctrl-c' || (k.name === 'char' && k.ch === 'q')) return this.stop()
    if (k.name === 'tab') this.setPane(this.pane + 1)
    else if (k.name === 'backtab') this.setPane(this.pane - 1)
    else if (k.name === 'up') this.scrollBy(-1)
    else if (k.name === 'down') this.scrollBy(1)
    else if (k.name === 'pageup') this.scrollBy(-this.bodyHeight())
    else if (k.name === 'pagedown') this.scrollBy(this.bodyHeight())
    else if (k.name === 'char') {
      const n = PANES.findIndex(p => p.key === k.ch)
      if (n >= 0) this.setPane(n)
      else if (k.ch === 'p' || k.ch === ' ') this.togglePause()
      else if (k.ch === '/') { this.draft = this.filter; this.setPane(PANES.length - 1) }
      else if (k.ch === 'c') { this.filter = ''; this.scroll = 0 }
    }
    this.draw()
  }

  private filterKey (k: Key): void {
    if (k.name === 'enter') { this.filter = this.draft ?? ''; this.draft = undefined; this.scroll = 0 }
    else if (k.name === 'escape' || k.name === 'ctrl-c') this.draft = undefined
    else if (k.name === 'backspace') this.draft = (this.draft ?? '').slice(0, -1)
    else if (k.name === 'char') this.draft = (this.draft ?? '') + k.ch
    this.draw()
  }

  /** Positive moves down the screen. The gossip tail counts back from its newest line, so there it is reversed. */
  private scrollBy (lines: number): void {
    const back = PANES[this.pane]!.scrollsItself === true ? -lines : lines
    this.scroll = Math.max(0, this.scroll + back)
  }

  private setPane (n: number): void {
    this.pane = (n + PANES.length) % PANES.length
    this.scroll = 0
  }

  private togglePause (): void {
    this.paused = !this.paused
    if (this.paused) return
    for (const e of this.pendingEvents) this.state.ingest(e)
    this.pendingEvents = []
    if (this.pendingSnapshot !== undefined) this.apply(this.pendingSnapshot)
    this.pendingSnapshot = undefined
  }

  private schedule (): void {
    if (this.drawTimer !== undefined || this.paused) return
    this.drawTimer = setTimeout(() => { this.drawTimer = undefined; this.draw() }, FRAME_MS)
  }

  private size (): { width: number, height: number } {
    return { width: this.init.output.columns ?? 100, height: this.init.output.rows ?? 30 }
  }

  private bodyHeight (): number {
    return Math.max(1, this.size().height - 4)
  }

  private draw (): void {
    if (this.abort.signal.aborted) return
    const { width, height } = this.size()
    const pane = PANES[this.pane]!
    const body = pane.draw({ state: this.state, nowMs: Date.now(), width, height: this.bodyHeight(), filter: this.draft ?? this.filter, scroll: this.scroll })
    // Other panes scroll down from their top; clamp so the last screenful stays in view.
    const offset = pane.scrollsItself === true ? 0 : Math.min(this.scroll, Math.max(0, body.length - this.bodyHeight()))
    if (pane.scrollsItself !== true) this.scroll = offset
    const lines: Line[] = [this.header(), this.tabs(), '', ...body.slice(offset, offset + this.bodyHeight())]
    while (lines.length < height - 1) lines.push('')
    lines.length = height - 1
    lines.push(this.footer())
    this.init.output.write(frame(lines, width, height))
  }

  private header (): Line {
    const s = this.state.status
    const where = this.init.client.where
    const paused = this.paused ? [seg(' PAUSED ', ['inverse', 'yellow'])] : []
    if (this.state.error !== undefined) return [seg('heliotrope console ', 'bold'), ...paused, seg(` ${this.state.error}; retrying`, 'red')]
    if (s === undefined) return [seg('heliotrope console ', 'bold'), seg(`connecting to ${where}...`)]
    const planner = s.planner.host ?? '-'
    return [
      seg('heliotrope console ', 'bold'), ...paused,
      seg(` ${s.host} (dc ${s.dc}) at ${where}  cluster ${s.cluster}  mode ${s.mode}  round ${s.round}  planner ${planner}  members ${s.members.live}/${s.members.total} up  uptime ${Math.round(s.uptimeMs / 1000)}s`)
    ]
  }

  private tabs (): Line {
    return PANES.flatMap((p, i) => [seg(` ${p.key} ${p.title} `, i === this.pane ? ['inverse', 'bold'] : 'dim'), seg(' ')])
  }

  private footer (): Line {
    if (this.draft !== undefined) return [seg(`filter: ${this.draft}_`, 'bold'), seg('   Enter apply  Esc cancel', 'dim')]
    return [seg(`keys: ${KEY_HELP}`, 'dim'), seg(this.filter !== '' ? `   filter "${this.filter}"` : '', 'yellow')]
  }
}
