/**
 * Test helper: a fake `xl` on disk (a shell script), for what a fake runner
 * cannot show: real processes. `info` and `list` print the answers written
 * next to it; `migrate` records its pid, forks a child that stands in for
 * the ssh xl starts, and hangs, optionally deaf to SIGTERM (as an xl stuck
 * in the kernel would be), so a test can check what is left after a stop.
 */
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'

export interface FakeXl {
  /** The script: the driver's `binary`. */
  binary: string
  dir: string
  /** The hanging migrate's pids once it runs: xl itself and its "ssh" child. */
  migratePids: (timeoutMs: number) => Promise<{ xl: number, ssh: number }>
  destroy: () => Promise<void>
}

export async function createFakeXl (answers: { list: string, listLong: string }, options: { ignoreTerm?: boolean } = {}): Promise<FakeXl> {
  const dir = await mkdtemp(join(tmpdir(), 'htfakexl-'))
  await writeFile(join(dir, 'list'), answers.list)
  await writeFile(join(dir, 'list-l'), answers.listLong)
  const binary = join(dir, 'xl')
  // The trap is inherited by the child (an ignored signal stays ignored across exec).
  await writeFile(binary, `#!/bin/sh
dir='${dir}'
case "$1" in
  info) echo 'xen_major              : 4' ;;
  list) if [ "$2" = -l ]; then cat "$dir/list-l"; else cat "$dir/list"; fi ;;
  migrate)
    ${options.ignoreTerm === true ? "trap '' TERM" : ':'}
    sleep 3600 &
    echo "$!" > "$dir/ssh.pid.tmp" && mv "$dir/ssh.pid.tmp" "$dir/ssh.pid"
    echo "$$" > "$dir/xl.pid.tmp" && mv "$dir/xl.pid.tmp" "$dir/xl.pid"
    echo 'migration target: Ready to receive domain.' >&2
    wait ;;
  *) echo "fake xl: $*: not faked" >&2; exit 1 ;;
esac
`)
  await chmod(binary, 0o755)
  const pid = async (name: string): Promise<number | undefined> => {
    const n = Number.parseInt(await readFile(join(dir, name), 'utf8').catch(() => ''), 10)
    return Number.isInteger(n) && n > 0 ? n : undefined
  }
  return {
    binary,
    dir,
    migratePids: async (timeoutMs) => {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const xl = await pid('xl.pid')
        const ssh = await pid('ssh.pid')
        if (xl !== undefined && ssh !== undefined) return { xl, ssh }
        if (Date.now() >= deadline) throw new Error(`fake xl migrate did not start within ${timeoutMs} ms`)
        await sleep(50)
      }
    },
    destroy: async () => { await rm(dir, { recursive: true, force: true }) }
  }
}

/** Whether `pid` is a live process: not gone and not a zombie (which nobody may reap in a container). */
export async function isAlive (pid: number): Promise<boolean> {
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => undefined)
  if (stat === undefined) return false
  // The state letter follows the command name in parentheses, which may contain spaces.
  return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z'
}

/** Waits until `pid` is gone (or a zombie); false at the timeout. */
export async function waitGone (pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs
  while (await isAlive(pid)) {
    if (Date.now() >= deadline) return false
    await sleep(50)
  }
  return true
}
