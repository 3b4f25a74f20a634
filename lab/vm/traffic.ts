/**
 * A lab VM's traffic process (also a client network's): runs inside the
 * VM's namespace for the VM's whole life, across migrations (its socket and
 * state never move; only the path to it does).
 *
 *   node traffic.ts --id ID --rates FILE --stats FILE --echo-port P --sink-port P
 *
 * - sends UDP datagrams to each destination of its flows in the rates file
 *   at the flow's rate (IPv6 bytes per second: payload + 48 header bytes),
 *   paced by a token bucket every TICK_MS; re-reads the file when it changes;
 * - echoes datagrams on the echo port (the migration downtime probe);
 * - writes what it sent (per destination) to the stats file every second
 *   and when it stops.
 *
 * Node's type stripping runs it directly: node: imports and erasable types only.
 */
import { createSocket } from 'node:dgram'
import { readFileSync, renameSync, statSync, writeFileSync } from 'node:fs'
import { parseArgs } from 'node:util'
import type { RatesFile, TrafficStats } from './rates.ts'

const TICK_MS = 20
const RATES_POLL_MS = 250
const STATS_MS = 1000
const PAYLOAD_BYTES = 1200
/** IPv6 (40) and UDP (8) headers: what the collectors and the rates count on top of the payload. */
const HEADER_BYTES = 48
const DATAGRAM_BYTES = PAYLOAD_BYTES + HEADER_BYTES
/** A stalled process does not make up for lost time in one burst beyond this. */
const MAX_CREDIT_TICKS = 5

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    rates: { type: 'string' },
    stats: { type: 'string' },
    'echo-port': { type: 'string', default: '7' },
    'sink-port': { type: 'string', default: '9' }
  }
})
const id = values.id ?? ''
const ratesPath = values.rates ?? ''
const statsPath = values.stats
const sinkPort = Number(values['sink-port'])

interface Flow { dst: string, bps: number, credit: number }
let flows: Flow[] = []
let ratesStamp = ''
const sent: TrafficStats['sent'] = {}
let errors = 0
const payload = Buffer.alloc(PAYLOAD_BYTES, 0x68)

function loadRates (): void {
  let stamp: string
  try { const s = statSync(ratesPath); stamp = `${s.mtimeMs}:${s.size}:${s.ino}` } catch { return }
  if (stamp === ratesStamp) return
  let rates: RatesFile
  try { rates = JSON.parse(readFileSync(ratesPath, 'utf8')) as RatesFile } catch { return /* next poll */ }
  ratesStamp = stamp
  const old = new Map(flows.map(f => [f.dst, f.credit]))
  const next = new Map<string, Flow>()
  for (const f of rates.flows) {
    if (f.src !== id || !(f.bps > 0)) continue
    const dst = rates.endpoints[f.dst]
    if (dst === undefined) continue
    const prev = next.get(dst)
    if (prev !== undefined) prev.bps += f.bps
    else next.set(dst, { dst, bps: f.bps, credit: old.get(dst) ?? 0 })
  }
  flows = [...next.values()]
}

const out = createSocket('udp6')
out.on('error', () => { errors++ })
function send (dst: string): void {
  out.send(payload, sinkPort, dst, (err) => {
    if (err !== null && err !== undefined) { errors++; return }
    const s = sent[dst] ?? (sent[dst] = { packets: 0, bytes: 0 })
    s.packets++
    s.bytes += DATAGRAM_BYTES
  })
}

let last = performance.now()
setInterval(() => {
  const now = performance.now()
  const dt = now - last
  last = now
  for (const f of flows) {
    const perTick = f.bps / 8 * TICK_MS / 1000
    f.credit = Math.min(f.credit + f.bps / 8 * dt / 1000, Math.max(DATAGRAM_BYTES * 2, perTick * MAX_CREDIT_TICKS))
    while (f.credit >= DATAGRAM_BYTES) { f.credit -= DATAGRAM_BYTES; send(f.dst) }
  }
}, TICK_MS)

loadRates()
setInterval(loadRates, RATES_POLL_MS)

const echo = createSocket({ type: 'udp6', ipv6Only: true })
echo.on('message', (msg, rinfo) => { echo.send(msg, rinfo.port, rinfo.address, () => {}) })
echo.on('error', () => { errors++ })
echo.bind(Number(values['echo-port']))

function writeStats (): void {
  if (statsPath === undefined) return
  const stats: TrafficStats = { id, atMs: Date.now(), sent, errors }
  const tmp = `${statsPath}.tmp`
  try { writeFileSync(tmp, JSON.stringify(stats)); renameSync(tmp, statsPath) } catch { /* the lab may be going down */ }
}
setInterval(writeStats, STATS_MS)
for (const sig of ['SIGTERM', 'SIGINT'] as const) process.on(sig, () => { writeStats(); process.exit(0) })
