/**
 * Xen domain states (`xl list`'s six flags) and xl's migration names as the
 * agent's VM status. While `xl migrate` runs, the receiving side's domain is
 * called NAME--incoming, and from the point of no return the sender's is
 * NAME--migratedaway (tools/xl/xl_migrate.c, xl_vmcontrol.c).
 */
import type { VmInfo } from '../types.ts'

export const INCOMING_SUFFIX = '--incoming'
export const MIGRATED_AWAY_SUFFIX = '--migratedaway'

/** The VM id behind a domain name, and what the name says about a migration. */
export function vmIdOf (name: string): { id: string, migration?: 'incoming' | 'away' } {
  if (name.endsWith(INCOMING_SUFFIX)) return { id: name.slice(0, -INCOMING_SUFFIX.length), migration: 'incoming' }
  if (name.endsWith(MIGRATED_AWAY_SUFFIX)) return { id: name.slice(0, -MIGRATED_AWAY_SUFFIX.length), migration: 'away' }
  return { id: name }
}

export function xenStatus (flags: string, migration: 'incoming' | 'away' | undefined, migratingAway: boolean): VmInfo['status'] {
  if (migration === 'incoming') return 'incoming'
  if (migration === 'away' || migratingAway) return 'migrating'
  if (/[scd]/.test(flags)) return 'stopped'
  if (flags.includes('p')) return 'paused'
  // r (on a CPU), b (blocked: idle or waiting on I/O), or runnable with no flag set.
  return 'running'
}
