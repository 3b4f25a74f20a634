/**
 * The lab driver's downtime probe as a process of its own, for a driver
 * that does not run in the source host's namespace:
 * `ip netns exec NS node probe.ts ADDR PORT INTERVAL_MS`.
 *
 * Lines on stdout: `ready` after the first echo; `resumed` after the first
 * echo that follows a `mark` line on stdin; on `end` (or stdin closing) one
 * JSON summary (echo-probe.ts's ProbeSummary), then it exits.
 */
import { createInterface } from 'node:readline'
import { EchoProbe } from './echo-probe.ts'

const [address, port, interval] = process.argv.slice(2)
const probe = new EchoProbe(address ?? '::1', Number(port), Number(interval ?? '2'))
const NEVER = 2 ** 31 - 1

void probe.ready(NEVER).then(() => process.stdout.write('ready\n'))

function end (): void {
  process.stdout.write(JSON.stringify(probe.stop()) + '\n')
  process.exit(0)
}

const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line === 'mark') { probe.mark(); void probe.resumed(NEVER).then(() => process.stdout.write('resumed\n')) } else if (line === 'end') end()
})
lines.on('close', end)
