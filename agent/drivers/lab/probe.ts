/**
 * The lab driver's downtime probe: sends a numbered UDP datagram to a VM's
 * echo port every INTERVAL ms and watches the echoes. Runs as its own process
 * inside a host's namespace (`ip netns exec NS node probe.ts ADDR PORT
 * INTERVAL`), so it needs Node's type stripping only: no imports but node:.
 *
 * Lines on stdout: `ready` after the first echo; `resumed` after the first
 * echo that follows a `mark` line on stdin; on `end` (or stdin closing) one
 * JSON summary: sent, received, maxGapMs (the longest time between two
 * consecutive echoes: the outage), then it exits.
 */
import { createSocket } from 'node:dgram'
import { createInterface } from 'node:readline'

const [address, portText, intervalText] = process.argv.slice(2)
const port = Number(portText)
const interval = Number(intervalText ?? '2')
const socket = createSocket('udp6')
let seq = 0
let received = 0
let last: number | undefined
let maxGapMs = 0
let marked = false
let resumed = false
let ready = false

socket.on('message', () => {
  const now = performance.now()
  received++
  if (last !== undefined) maxGapMs = Math.max(maxGapMs, now - last)
  last = now
  if (!ready) { ready = true; process.stdout.write('ready\n') }
  if (marked && !resumed) { resumed = true; process.stdout.write('resumed\n') }
})
// A send into a moving link may fail; the gap in echoes is what we measure.
socket.on('error', () => {})

const buf = Buffer.alloc(8)
const timer = setInterval(() => {
  buf.writeBigUInt64BE(BigInt(seq++))
  socket.send(buf, port, address, () => {})
}, interval)

function end (): void {
  clearInterval(timer)
  process.stdout.write(JSON.stringify({ sent: seq, received, maxGapMs: Math.round(maxGapMs * 10) / 10 }) + '\n')
  socket.close()
  process.exit(0)
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line === 'mark') marked = true
  else if (line === 'end') end()
})
lines.on('close', end)
