/**
 * An optional CPU profile of an agent-group process, for finding where the
 * agents' CPU goes at sizes one process cannot hold: set
 * HELIOTROPE_CPU_PROFILE_DIR and each group writes <dir>/group-<pid>.cpuprofile
 * (Chrome DevTools format) when it stops. node's own --cpu-prof writes at
 * exit, which the parent's cleanup can cut short.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

export interface CpuProfile { stop: () => Promise<void> }

export async function startCpuProfile (dir = process.env.HELIOTROPE_CPU_PROFILE_DIR): Promise<CpuProfile | undefined> {
  if (dir === undefined || dir === '') return undefined
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.start')
  return {
    stop: async () => {
      const { profile } = await session.post('Profiler.stop')
      writeFileSync(join(dir, `group-${process.pid}.cpuprofile`), JSON.stringify(profile))
      session.disconnect()
    }
  }
}
