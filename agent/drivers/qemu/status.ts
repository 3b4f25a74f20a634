/**
 * QEMU run states (query-status) and migration states (query-migrate) as
 * the agent's VM status.
 */
import type { VmInfo } from '../types.ts'

const ACTIVE_MIGRATION = new Set(['setup', 'active', 'pre-switchover', 'device', 'cancelling', 'wait-unplug'])

export function vmStatus (runState: string, migrationStatus?: string): VmInfo['status'] {
  switch (runState) {
    case 'inmigrate':
      return 'incoming'
    case 'finish-migrate':
      return 'migrating'
    case 'running':
      return migrationStatus !== undefined && ACTIVE_MIGRATION.has(migrationStatus) ? 'migrating' : 'running'
    case 'paused':
    case 'prelaunch':
    case 'suspended':
    case 'debug':
    case 'io-error':
    case 'watchdog':
    case 'save-vm':
    case 'restore-vm':
    case 'colo':
      return migrationStatus !== undefined && ACTIVE_MIGRATION.has(migrationStatus) ? 'migrating' : 'paused'
    default:
      // postmigrate (its state now lives on the target), shutdown, internal-error, guest-panicked.
      return 'stopped'
  }
}
