/**
 * Lab helper: two "hosts" as network namespaces joined by a veth pair whose
 * both ends are throttled by tbf, with IPv6 ULA addresses (fd00::/8). No
 * traffic leaves the two namespaces. Used by lab/vm/qemu-lab.ts (the
 * migration bench) and the qemu and libvirt driver tests.
 */
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** The test link's rate: the thesis's inter-DC setting. */
export const DEFAULT_LINK_MBIT = 100

export interface LabHost {
  netns: string
  address: string
  /** Command prefix that runs a program in this host's namespace. */
  prefix: string[]
}

export interface LabLink {
  a: LabHost
  b: LabHost
  rateMbit: number
  /** Kills whatever still runs in the namespaces (only what the lab started there) and deletes them. */
  destroy: () => Promise<void>
}

async function ip (...args: string[]): Promise<void> {
  await run('ip', args, { timeout: 10_000 })
}

/** Why the lab cannot run here, or undefined when it can. */
export async function labUnavailable (): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'network namespaces need root'
  try {
    await run('tc', ['-V'], { timeout: 5_000 })
    await run('ip', ['-V'], { timeout: 5_000 })
  } catch {
    return 'ip/tc (iproute2) missing'
  }
  return undefined
}

export async function createLink (options: { rateMbit?: number, tag?: string } = {}): Promise<LabLink> {
  const rateMbit = options.rateMbit ?? DEFAULT_LINK_MBIT
  const id = randomBytes(3).toString('hex')
  const tag = options.tag ?? 'link'
  const prefix = `fd00:4854:${id.slice(0, 4)}:${id.slice(4)}::`
  const host = (side: 'a' | 'b', n: number): LabHost => {
    const netns = `htqemu-${tag}-${id}-${side}`
    return { netns, address: `${prefix}${n}`, prefix: ['ip', 'netns', 'exec', netns] }
  }
  const a = host('a', 1)
  const b = host('b', 2)
  const created: string[] = []
  const destroy = async (): Promise<void> => {
    for (const ns of created) {
      const pids = await run('ip', ['netns', 'pids', ns]).then(r => r.stdout.split(/\s+/).filter(Boolean).map(Number), () => [])
      for (const pid of pids) {
        try { process.kill(pid, 'SIGKILL') } catch { /* gone */ }
      }
      await ip('netns', 'del', ns).catch(() => undefined)
    }
  }
  try {
    for (const h of [a, b]) {
      await ip('netns', 'add', h.netns)
      created.push(h.netns)
      await ip('-n', h.netns, 'link', 'set', 'lo', 'up')
    }
    await ip('link', 'add', `htq${id}a`, 'netns', a.netns, 'type', 'veth', 'peer', 'name', `htq${id}b`, 'netns', b.netns)
    for (const [h, dev] of [[a, `htq${id}a`], [b, `htq${id}b`]] as const) {
      // nodad: the address is usable at once instead of after duplicate detection.
      await ip('-n', h.netns, 'addr', 'add', `${h.address}/64`, 'dev', dev, 'nodad')
      await ip('-n', h.netns, 'link', 'set', dev, 'up')
      // burst must cover a timer tick at this rate; latency bounds the queue.
      await run('tc', ['-n', h.netns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', 'rate', `${rateMbit}mbit`, 'burst', '64kb', 'latency', '50ms'], { timeout: 10_000 })
    }
  } catch (err) {
    await destroy()
    throw err
  }
  return { a, b, rateMbit, destroy }
}
