/**
 * A fresh network namespace for a measurement: its loopback carries only our
 * agents' packets, so its byte counter is theirs alone. Needs root and
 * iproute2; callers fall back to the shared loopback (no byte counts)
 * without them.
 */
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'

const IP_TIMEOUT_MS = 10_000
/** The loopback's transmit counter as seen by a process inside the namespace. */
const LO_TX_BYTES = '/sys/class/net/lo/statistics/tx_bytes'

export function canUseNetns (): boolean {
  if (process.getuid?.() !== 0) return false
  return spawnSync('ip', ['netns', 'list'], { timeout: IP_TIMEOUT_MS, stdio: 'ignore' }).status === 0
}

export function createNetns (name: string): void {
  execFileSync('ip', ['netns', 'add', name], { timeout: IP_TIMEOUT_MS, stdio: 'pipe' })
  execFileSync('ip', ['-n', name, 'link', 'set', 'lo', 'up'], { timeout: IP_TIMEOUT_MS, stdio: 'pipe' })
}

export function deleteNetns (name: string): void {
  spawnSync('ip', ['netns', 'del', name], { timeout: IP_TIMEOUT_MS, stdio: 'ignore' })
}

/** argv run inside `ns` (ip netns exec execs it: the child's pid is the command's own). */
export function inNetns (ns: string | undefined, argv: string[]): string[] {
  return ns === undefined ? argv : ['ip', 'netns', 'exec', ns, ...argv]
}

/** Bytes sent on `ns`'s loopback so far, read from outside. */
export function netnsLoTxBytes (ns: string): number {
  const out = execFileSync('ip', ['-n', ns, '-s', '-j', 'link', 'show', 'dev', 'lo'], { timeout: IP_TIMEOUT_MS, encoding: 'utf8' })
  const parsed = JSON.parse(out) as Array<{ stats64?: { tx?: { bytes?: number } } }>
  const bytes = parsed[0]?.stats64?.tx?.bytes
  if (typeof bytes !== 'number') throw new Error(`no loopback tx counter in ${ns}`)
  return bytes
}

/** Bytes sent on this process's loopback so far (inside a namespace of our own, ours alone). */
export function ownLoTxBytes (): number {
  return Number(readFileSync(LO_TX_BYTES, 'utf8').trim())
}
