/** What every pane draws from. */
import type { Line } from '../screen.ts'
import type { ConsoleState } from '../state.ts'

export interface PaneContext {
  state: ConsoleState
  nowMs: number
  width: number
  /** Rows the pane may fill. */
  height: number
  /** The gossip pane's filter (substring, case-insensitive). */
  filter: string
  /** Lines scrolled back from the newest (gossip pane). */
  scroll: number
}

export interface Pane {
  key: string
  title: string
  /** True when the pane applies `scroll` itself (the gossip tail scrolls back from the newest). */
  scrollsItself?: boolean
  draw (ctx: PaneContext): Line[]
}
