/**
 * Runs inside a lab host's namespace (`ip netns exec`): forwards connections
 * from a unix socket in the lab's state directory to the agent's API on
 * [::1]:PORT there. Path-named unix sockets live in the file system, which
 * the namespaces share, so the chaos runner in the machine's own namespace
 * reaches every agent's loopback-only API without a fork per request. It
 * outlives the agent's crashes: a connection made while the agent is down is
 * closed at once. Node's type stripping runs it: node: imports only.
 *
 *   node api-proxy.ts SOCKET PORT
 */
import { rmSync } from 'node:fs'
import { connect, createServer } from 'node:net'

const [socketPath, portText] = process.argv.slice(2)
if (socketPath === undefined || portText === undefined) {
  process.stderr.write('usage: api-proxy.ts SOCKET PORT\n')
  process.exit(2)
}
const port = Number(portText)
rmSync(socketPath, { force: true })
const server = createServer(client => {
  const upstream = connect({ host: '::1', port })
  client.pipe(upstream)
  upstream.pipe(client)
  upstream.on('error', () => client.destroy())
  client.on('error', () => upstream.destroy())
  upstream.on('close', () => client.destroy())
  client.on('close', () => upstream.destroy())
})
server.listen(socketPath, () => process.stdout.write('ready\n'))
const quit = (): void => { server.close(); rmSync(socketPath, { force: true }); process.exit(0) }
process.on('SIGTERM', quit)
process.on('SIGINT', quit)
