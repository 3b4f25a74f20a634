/** The console's panes, in key order. */
import type { Pane } from './context.ts'
import { dropsPane } from './drops.ts'
import { gossipPane } from './gossip.ts'
import { membersPane } from './members.ts'
import { migrationsPane } from './migrations.ts'
import { overviewPane } from './overview.ts'
import { roundsPane } from './rounds.ts'

export const PANES: readonly Pane[] = [overviewPane, membersPane, roundsPane, migrationsPane, dropsPane, gossipPane]
export type { Pane, PaneContext } from './context.ts'
