/**
 * libvirt domain states (dominfo's State, domstate's reason) as the agent's
 * VM status. A domain paused for a migration is the incoming copy on the
 * target, or the outgoing one in its final phase on the source: only the
 * caller knows which, so it says whether it is migrating the domain away.
 */
import type { VmInfo } from '../types.ts'

/** Paused reasons (domstate --reason) that mean a migration holds the domain. */
const MIGRATION_PAUSE = new Set(['migrating', 'starting up', 'post-copy'])

export function domainStatus (state: string, reason: string | undefined, migratingAway: boolean): VmInfo['status'] {
  if (migratingAway) return 'migrating'
  switch (state) {
    case 'running':
    case 'idle':
    case 'blocked':
    case 'no state':
      return 'running'
    case 'paused':
      return reason !== undefined && MIGRATION_PAUSE.has(reason) ? 'incoming' : 'paused'
    default:
      // shut off, in shutdown, crashed, pmsuspended: not running here.
      return 'stopped'
  }
}
