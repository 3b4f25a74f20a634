/**
 * An optional CPU profile of an agent-group process, for finding where the
 * agents' CPU goes at sizes one process cannot hold: set
 * HELIOTROPE_CPU_PROFILE_DIR and each group writes <dir>/group-<pid>.cpuprofile
 * (Chrome DevTools format) when it stops. node's own --cpu-prof writes at
 * exit, which the parent's cleanup can cut short.
 * HELIOTROPE_CPU_PROFILE_AFTER_MS=t starts the profile t ms after the
 * process, so that start-up (loading, first connections) does not fill it
 * when the question is where the rounds' CPU goes.
 */
import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

export interface CpuProfile { stop: () => Promise<void> }

export async function startCpuProfile (dir = process.env.HELIOTROPE_CPU_PROFILE_DIR, afterMs = Number(process.env.HELIOTROPE_CPU_PROFILE_AFTER_MS ?? 0)): Promise<CpuProfile | undefined> {
  if (dir === undefined || dir === '') return undefined
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  let started = false
  const begin = async (): Promise<void> => { await session.post('Profiler.start'); started = true }
  const timer = afterMs > 0 ? setTimeout(() => { void begin() }, afterMs).unref() : undefined
  if (timer === undefined) await begin()
  return {
    stop: async () => {
      clearTimeout(timer)
      if (started) {
        const { profile } = await session.post('Profiler.stop')
        writeFileSync(join(dir, `group-${process.pid}.cpuprofile`), JSON.stringify(profile))
      }
      session.disconnect()
    }
  }
}
