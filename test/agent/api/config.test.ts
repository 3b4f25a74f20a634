/** The `api` config section, --api addresses, and the daemon starting and stopping its API. */
import test from 'ava'
import { createServer } from 'node:net'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { DEFAULT_API_PORT, isLoopback } from '../../../agent/api/config.ts'
import { formatApiAddress, parseApiAddress } from '../../../agent/api/client.ts'
import { ApiAddressError, ApiListenError } from '../../../agent/api/errors.ts'
import { parseConfig } from '../../../agent/config.ts'
import { startDaemon } from '../../../agent/daemon.ts'
import { LAB_DRIVERS } from '../../../lab/drivers/index.ts'
import { SimWorld } from '../../../lab/drivers/sim-host/world.ts'
import { silentLogger } from '../../../agent/log.ts'
import { generatePsk, loadOrCreatePeerKey } from '../../../agent/net/keys.ts'
import { ValidationError } from '../../../lib/errors.ts'

const BASE = {
  cluster: 'cfg', host: 'h1', dc: 'A', members: [], pskFile: '/x/psk', topologyFile: '/x/t.json', address: 'fd00::1',
  capacity: { memoryMiB: 1024, vcpus: 1 }, collector: { kind: 'file', path: '/x' }, hypervisor: { kind: 'xen' }
}

test('api config: on [::1]:7878 by default; loopback only unless allowNonLoopback; precise errors', t => {
  t.deepEqual(parseConfig(BASE).api, { enabled: true, listen: '::1', port: DEFAULT_API_PORT, allowNonLoopback: false })
  t.deepEqual(parseConfig({ ...BASE, api: { listen: '127.0.0.1', port: 0 } }).api, { enabled: true, listen: '127.0.0.1', port: 0, allowNonLoopback: false })
  t.deepEqual(parseConfig({ ...BASE, api: { listen: '2001:db8::5', allowNonLoopback: true } }).api.listen, '2001:db8::5')
  t.false(parseConfig({ ...BASE, api: { enabled: false } }).api.enabled)
  const err = t.throws(() => parseConfig({ ...BASE, api: { listen: '::', port: 70000, colour: 1 } }), { instanceOf: ValidationError })
  t.regex(err.message, /api\.listen: expected a loopback address \(set api\.allowNonLoopback to true/)
  t.regex(err.message, /api\.port: expected a number <= 65535, found 70000/)
  t.regex(err.message, /api\.colour: expected one of the fields enabled, listen, port, allowNonLoopback/)
  t.regex(t.throws(() => parseConfig({ ...BASE, api: { listen: '[::1]:80' } }))!.message, /api\.listen: expected an IP address such as "::1" \(no brackets, no port\)/)
})

test('loopback addresses', t => {
  for (const a of ['::1', '0:0:0:0:0:0:0:1', '127.0.0.1', '127.9.9.9', '::ffff:127.0.0.1']) t.true(isLoopback(a), a)
  for (const a of ['::', '0.0.0.0', 'fd00::1', '10.0.0.1', '::2', 'localhost']) t.false(isLoopback(a), a)
})

test('--api addresses: [v6]:port, v4:port, localhost:port, a bare port, http://', t => {
  t.deepEqual(parseApiAddress('[::1]:7878'), { host: '::1', port: 7878 })
  t.deepEqual(parseApiAddress('7879'), { host: '::1', port: 7879 })
  t.deepEqual(parseApiAddress('127.0.0.1:80'), { host: '127.0.0.1', port: 80 })
  t.deepEqual(parseApiAddress('http://[fd00::1]:7878/'), { host: 'fd00::1', port: 7878 })
  t.deepEqual(parseApiAddress('localhost:1'), { host: 'localhost', port: 1 })
  t.is(formatApiAddress({ host: 'fd00::1', port: 5 }), '[fd00::1]:5')
  for (const bad of ['', '::1:7878', '[::1]', '[zz::1]:1', 'example.com:80', '0', '70000', '[::1]:x']) t.throws(() => parseApiAddress(bad), { instanceOf: ApiAddressError }, bad)
})

/** A one-host agent on the lab's sim drivers: the only kinds that run anywhere without root or a hypervisor. */
async function oneHostConfig (t: { teardown (fn: () => Promise<void>): void }, api: Record<string, unknown>): Promise<ReturnType<typeof parseConfig>> {
  const dir = await mkdtemp(join(tmpdir(), 'htapicfg-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const key = await loadOrCreatePeerKey(join(dir, 'state'))
  await writeFile(join(dir, 'psk'), generatePsk(), { mode: 0o600 })
  await writeFile(join(dir, 'topology.json'), JSON.stringify({ dcs: [{ id: 'A' }], links: [] }))
  await new SimWorld(join(dir, 'world')).init([{ id: 'vm1', host: 'h1', memoryMiB: 512, vcpus: 1, addresses: ['fd00::5'] }], { flows: [], prefixes: [] })
  return parseConfig({
    ...BASE, stateDir: join(dir, 'state'), listen: ['/ip6/::1/tcp/0'], pskFile: join(dir, 'psk'), members: [{ host: 'h1', peerId: key.peerId }],
    topologyFile: join(dir, 'topology.json'), roundPeriodMs: 1000, collector: { kind: 'sim', world: join(dir, 'world') }, hypervisor: { kind: 'sim', world: join(dir, 'world') }, api
  }, LAB_DRIVERS)
}

test('the daemon starts its API with the agent and stops it after the agent', async t => {
  const config = await oneHostConfig(t, { port: 0 })
  const daemon = await startDaemon(config, { log: silentLogger(), drivers: LAB_DRIVERS })
  t.teardown(async () => daemon.stop().catch(() => undefined))
  const address = daemon.api!.address
  t.regex(address, /^\[::1\]:\d+$/)
  const status = await (await fetch(`http://${address}/status`)).json() as { host: string }
  t.is(status.host, 'h1')
  await daemon.stop()
  await t.throwsAsync(fetch(`http://${address}/status`))
})

test('a taken API port is a precise error, and the agent does not stay up', async t => {
  const taken = createServer()
  await new Promise<void>(resolve => taken.listen({ host: '::1', port: 0 }, resolve))
  t.teardown(async () => new Promise<void>(resolve => taken.close(() => resolve())))
  const port = (taken.address() as { port: number }).port
  const config = await oneHostConfig(t, { port })
  const err = await t.throwsAsync(startDaemon(config, { log: silentLogger(), drivers: LAB_DRIVERS }), { instanceOf: ApiListenError })
  t.regex(err!.message, new RegExp(`the API cannot listen on \\[::1\\]:${port}: .*EADDRINUSE.*the port is taken`))
})
