/**
 * Network namespaces: create, find by prefix, and remove together with
 * every process still running inside (a namespace whose processes live on
 * is not gone, it is only unnamed).
 */
import { readdir } from 'node:fs/promises'
import { run } from '../drivers/lab-host/exec.ts'

const NETNS_DIR = '/run/netns'
/** How long processes get between SIGTERM and SIGKILL when a lab goes down. */
export const KILL_GRACE_MS = 1_500

export async function listNamespaces (): Promise<string[]> {
  try { return (await readdir(NETNS_DIR)).sort() } catch { return [] }
}

/** Namespaces that belong to the lab `prefix`. */
export async function labNamespaces (prefix: string): Promise<string[]> {
  return (await listNamespaces()).filter(n => n.startsWith(`${prefix}-`))
}

export async function addNamespace (name: string): Promise<void> {
  await run(['ip', 'netns', 'add', name])
  await run(['ip', '-n', name, 'link', 'set', 'lo', 'up'])
}

export async function namespacePids (name: string): Promise<number[]> {
  const out = await run(['ip', 'netns', 'pids', name]).catch(() => '')
  return out.split('\n').filter(Boolean).map(Number).filter(n => Number.isInteger(n) && n > 0 && n !== process.pid)
}

function signal (pid: number, sig: NodeJS.Signals | 0): boolean {
  try { process.kill(pid, sig); return true } catch { return false }
}

/** SIGTERM everything in `names`, SIGKILL what is left after the grace period. */
export async function killNamespaceProcesses (names: readonly string[], graceMs = KILL_GRACE_MS): Promise<number> {
  const pids = (await Promise.all(names.map(namespacePids))).flat()
  const alive = pids.filter(p => signal(p, 'SIGTERM'))
  const end = Date.now() + graceMs
  while (alive.some(p => signal(p, 0)) && Date.now() < end) await new Promise(resolve => setTimeout(resolve, 50))
  for (const p of alive) signal(p, 'SIGKILL')
  return alive.length
}

/** Deletes the namespaces (their interfaces go with them); missing ones are fine. */
export async function deleteNamespaces (names: readonly string[]): Promise<void> {
  await Promise.all(names.map(async n => run(['ip', 'netns', 'del', n]).catch(() => undefined)))
}
