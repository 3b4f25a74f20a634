/**
 * `npm run bench:nftables` (root, nft, ip, iperf3): what the nftables
 * collector costs on a host.
 *
 * 1. Throughput between two "VM" namespaces over a Linux bridge in a host
 *    namespace, iperf3 TCP and UDP (1,400-byte datagrams, unpaced), without
 *    and with the counting table (both VMs local, so every packet is
 *    counted); alternated, ROUNDS times each, RUN_SECONDS per run. On a
 *    shared machine the spread between runs is often larger than the cost.
 * 2. The time of read() on a set holding 64k pairs (filled from a script
 *    with `add element`), first read (baseline) and later ones (diffs).
 *
 * About a minute in all. Namespaces are named htnft-bench-* and removed at
 * the end, also on Ctrl-C.
 */
import { execFile, spawn, spawnSync } from 'node:child_process'
import { cpus, loadavg } from 'node:os'
import { NftablesCollector } from '../../agent/drivers/nftables/collector.ts'
import { Nft } from '../../agent/drivers/nftables/nft.ts'
import { parseTable } from '../../agent/drivers/nftables/parse.ts'
import { FLOW_SET, UNCOUNTED_COUNTER } from '../../agent/drivers/nftables/ruleset.ts'
import { startBenchReport } from './report.ts'
import { table } from './text-table.ts'

/** Writes this run into docs/benchmarks.md at the end (--no-write: not). */
const report = startBenchReport('nftables')

const RUN_SECONDS = 2
const ROUNDS = 3
const FILL_PAIRS = 65_536
const READS = 5
const TABLE = 'htnft_bench'
const PREFIX = `htnft-bench-${process.pid.toString(36)}`
const NS = { host: `${PREFIX}-host`, vm1: `${PREFIX}-vm1`, vm2: `${PREFIX}-vm2`, fill: `${PREFIX}-fill` }
const VM1 = 'fd00:1::1'
const VM2 = 'fd00:1::2'

function sh (argv: string[], input?: string, timeoutMs = 60_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(argv[0]!, argv.slice(1), { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (err !== null) reject(new Error(`${argv.join(' ')}: ${stderr || err.message}`))
      else resolve(stdout)
    })
    child.stdin?.on('error', () => {})
    child.stdin?.end(input)
  })
}

function cleanup (): void {
  for (const ns of Object.values(NS)) spawnSync('ip', ['netns', 'del', ns], { timeout: 5000, stdio: 'ignore' })
}

async function setup (): Promise<void> {
  for (const ns of Object.values(NS)) await sh(['ip', 'netns', 'add', ns])
  await sh(['ip', '-n', NS.host, 'link', 'add', 'br0', 'type', 'bridge'])
  await sh(['ip', '-n', NS.host, 'link', 'set', 'br0', 'up'])
  for (const [vm, addr] of [[NS.vm1, VM1], [NS.vm2, VM2]] as const) {
    const port = vm === NS.vm1 ? 'p1' : 'p2'
    await sh(['ip', 'link', 'add', port, 'netns', NS.host, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', vm])
    await sh(['ip', '-n', NS.host, 'link', 'set', port, 'master', 'br0', 'up'])
    await sh(['ip', '-n', vm, 'link', 'set', 'lo', 'up'])
    await sh(['ip', '-n', vm, 'link', 'set', 'eth0', 'up'])
    await sh(['ip', '-n', vm, 'addr', 'add', `${addr}/64`, 'dev', 'eth0', 'nodad'])
  }
}

/** One iperf3 run from vm1 to vm2; returns the receiver's Gbit/s. */
async function iperf (udp: boolean): Promise<number> {
  const server = spawn('ip', ['netns', 'exec', NS.vm2, 'iperf3', '-s', '-1', '-B', VM2], { stdio: 'ignore' })
  try {
    await new Promise(resolve => setTimeout(resolve, 300))
    const args = ['ip', 'netns', 'exec', NS.vm1, 'iperf3', '-c', VM2, '-t', String(RUN_SECONDS), '-J', ...(udp ? ['-u', '-b', '0', '-l', '1400'] : [])]
    const out = JSON.parse(await sh(args, undefined, (RUN_SECONDS + 15) * 1000)) as { end: { sum_received?: { bits_per_second: number }, sum?: { bits_per_second: number, lost_percent?: number } } }
    const bps = udp ? out.end.sum!.bits_per_second * (1 - (out.end.sum!.lost_percent ?? 0) / 100) : out.end.sum_received!.bits_per_second
    return bps / 1e9
  } finally {
    server.kill()
  }
}

function median (xs: number[]): number { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]! }


async function throughput (): Promise<string[][]> {
  const collector = new NftablesCollector({}, { netns: NS.host, table: TABLE, hooks: ['bridge'], localAddresses: [VM1, VM2], platformPrefixes: ['fd00:1::/64'] })
  const rows: string[][] = []
  for (const udp of [false, true]) {
    const without: number[] = []
    const withRule: number[] = []
    for (let r = 0; r < ROUNDS; r++) {
      without.push(await iperf(udp))
      await collector.start()
      await collector.read(Date.now())
      withRule.push(await iperf(udp))
      const counted = (await collector.read(Date.now())).deltas.reduce((a, d) => a + d.bytes, 0)
      if (counted === 0) throw new Error('the counting rule counted nothing: the benchmark would measure an idle rule')
      await collector.stop()
      console.error(`  ${udp ? 'udp' : 'tcp'} round ${r + 1}: ${without.at(-1)!.toFixed(2)} vs ${withRule.at(-1)!.toFixed(2)} Gbit/s`)
    }
    const a = median(without)
    const b = median(withRule)
    const range = (xs: number[]): string => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`
    rows.push([udp ? 'UDP 1400 B, unpaced' : 'TCP', a.toFixed(2), b.toFixed(2), `${((a - b) / a * 100).toFixed(1)}%`, range(without), range(withRule)])
  }
  return rows
}

async function readCost (): Promise<string[][]> {
  const collector = new NftablesCollector({}, { netns: NS.fill, table: TABLE, hooks: ['bridge'], setSize: FILL_PAIRS })
  await collector.start()
  try {
    // 256 sources x 256 destinations, in chunks so no single nft command line is huge.
    const lines: string[] = []
    for (let s = 0; s < FILL_PAIRS / 256; s++) {
      const elems = Array.from({ length: 256 }, (_, d) => `fd00:1::${s.toString(16)} . fd00:2::${d.toString(16)}`)
      lines.push(`add element bridge ${TABLE} flows { ${elems.join(', ')} }`)
    }
    const fillStart = performance.now()
    await new Nft({ netns: NS.fill, timeoutMs: 120_000 }).apply(lines.join('\n') + '\n')
    const fillMs = performance.now() - fillStart
    const times: number[] = []
    let first = 0
    let entries = 0
    for (let i = 0; i <= READS; i++) {
      const t0 = performance.now()
      const s = await collector.read(i * 1000)
      const ms = performance.now() - t0
      if (i === 0) first = ms
      else times.push(ms)
      entries = s.deltas.length
    }
    const json = await new Nft({ netns: NS.fill }).run(['-j', 'list', 'table', 'bridge', TABLE])
    const t0 = performance.now()
    const listed = parseTable(JSON.parse(json), FLOW_SET, UNCOUNTED_COUNTER).pairs.length
    const parseMs = performance.now() - t0
    if (listed !== FILL_PAIRS) throw new Error(`the set holds ${listed} pairs, not ${FILL_PAIRS}`)
    if (entries !== 0) throw new Error('no traffic, yet deltas')
    // The wall time above depends on the machine's load; nft's own CPU time does less.
    const nft = await new Nft().locate()
    // bash's `time` sums the children's user and sys time; it prints to stderr, hence the redirection.
    const cpu = await sh(['bash', '-c', `TIMEFORMAT='%U %S'; { time ip netns exec ${NS.fill} ${nft} -j list table bridge ${TABLE} >/dev/null; } 2>&1`])
    const cpuMs = cpu.trim().split(/\s+/).reduce((a, x) => a + Number(x) * 1000, 0)
    return [
      ['fill 64k pairs (nft -f, add element)', fillMs.toFixed(0)],
      ['first read() (baseline)', first.toFixed(0)],
      [`later read(), median of ${READS}`, median(times).toFixed(0)],
      [`  of which JSON.parse + parseTable of ${(json.length / 1e6).toFixed(1)} MB`, parseMs.toFixed(0)],
      ['  nft -j list table: CPU user+sys', cpuMs.toFixed(0)]
    ]
  } finally {
    await collector.stop()
  }
}

process.once('SIGINT', () => { cleanup(); process.exit(130) })
cleanup()
try {
  await setup()
  console.log(`nftables collector benchmark: node ${process.version}, ${(await new Nft().run(['--version'])).trim()}, ${RUN_SECONDS} s per iperf3 run, ${ROUNDS} rounds, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}\n`)
  const tput = await throughput()
  console.log(table(['veth over a bridge (median)', 'without Gbit/s', 'with Gbit/s', 'cost', 'range without', 'range with'], tput))
  console.log()
  console.log(table([`set of ${FILL_PAIRS} pairs`, 'ms'], await readCost()))
} finally {
  cleanup()
}
await report.done()
