/**
 * TCP ports on [::1] for agents whose addresses must be known before they
 * start (an inventory in the member list, see agent/cluster/dht-servers.ts).
 * Taken below Linux's ephemeral range (32768 and up by default), where the
 * agents' own outgoing connections take theirs, so a port found free here
 * is not taken by a dial before its agent listens on it. Each is checked by
 * binding it; a lab runs alone on its machine, so the check holds.
 */
import { createServer } from 'node:net'

const LOW = 20_000
const HIGH = 32_000

export async function freeLoopbackPorts (count: number, random: () => number = Math.random): Promise<number[]> {
  if (count > HIGH - LOW) throw new RangeError(`at most ${HIGH - LOW} ports (asked for ${count})`)
  const out: number[] = []
  let next = LOW + Math.floor(random() * (HIGH - LOW))
  for (let tried = 0; out.length < count && tried < HIGH - LOW; tried++) {
    const port = next
    next = next + 1 >= HIGH ? LOW : next + 1
    if (await bindable(port)) out.push(port)
  }
  if (out.length < count) throw new Error(`only ${out.length} free ports on [::1] between ${LOW} and ${HIGH}, ${count} needed`)
  return out
}

function bindable (port: number): Promise<boolean> {
  return new Promise(resolve => {
    const server = createServer()
    server.once('error', () => { resolve(false) })
    server.listen({ host: '::1', port, exclusive: true }, () => { server.close(() => { resolve(true) }) })
  })
}
