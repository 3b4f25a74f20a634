/**
 * Sends COUNT UDP datagrams of SIZE payload bytes to [DST]:PORT, one at a
 * time (each send completes before the next, so veth queues never drop),
 * then prints {"sent": COUNT}. Run inside a namespace by the tests:
 * `ip netns exec NS node udp-send.ts DST PORT SIZE COUNT`.
 */
import { createSocket } from 'node:dgram'

const [dst, port, size, count] = process.argv.slice(2)
const n = Number(count)
const socket = createSocket('udp6')
const payload = Buffer.alloc(Number(size), 0x68)
for (let i = 0; i < n; i++) {
  await new Promise<void>((resolve, reject) => socket.send(payload, Number(port), dst, err => err ? reject(err) : resolve()))
}
socket.close()
console.log(JSON.stringify({ sent: n }))
