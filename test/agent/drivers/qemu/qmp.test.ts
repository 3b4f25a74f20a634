/**
 * The QMP client against a scripted fake monitor on a unix socket: greeting
 * and negotiation, answers matched by id, errors, events, and the bounds that
 * keep a dead or busy monitor from hanging the caller.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import type { Server, Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import type { ExecutionContext } from 'ava'
import { QmpClient } from '../../../../agent/drivers/qemu/qmp.ts'
import type { QmpEvent } from '../../../../agent/drivers/qemu/qmp.ts'

const GREETING = { QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } }

type Handler = (msg: { execute: string, arguments?: Record<string, unknown>, id?: string }, socket: Socket) => void

/** A monitor that greets (unless told not to) and hands each command to `handler`. */
async function fakeMonitor (t: ExecutionContext, handler: Handler, options: { greet?: boolean } = {}): Promise<{ path: string, server: Server, seen: string[] }> {
  const dir = await mkdtemp(join(tmpdir(), 'htqemu-qmp-'))
  const path = join(dir, 'm.qmp')
  const seen: string[] = []
  const server = createServer(socket => {
    if (options.greet !== false) socket.write(JSON.stringify(GREETING) + '\r\n')
    let buf = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      buf += chunk
      let nl: number
      while ((nl = buf.indexOf('\n')) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as Parameters<Handler>[0]
        buf = buf.slice(nl + 1)
        seen.push(msg.execute)
        if (msg.execute === 'qmp_capabilities') socket.write(JSON.stringify({ return: {}, id: msg.id }) + '\r\n')
        else handler(msg, socket)
      }
    })
    socket.on('error', () => undefined)
  })
  await new Promise<void>(resolve => server.listen(path, resolve))
  t.teardown(async () => {
    await new Promise(resolve => server.close(resolve))
    await rm(dir, { recursive: true, force: true })
  })
  return { path, server, seen }
}

const reply = (socket: Socket, value: object): void => { socket.write(JSON.stringify(value) + '\r\n') }

test('negotiates, runs commands and matches answers by id even out of order', async t => {
  const held: Array<() => void> = []
  const { path, seen } = await fakeMonitor(t, (msg, socket) => {
    if (msg.execute === 'query-status') reply(socket, { return: { status: 'running', running: true }, id: msg.id })
    if (msg.execute === 'slow') held.push(() => { reply(socket, { return: 'slow', id: msg.id }) })
    if (msg.execute === 'fast') {
      reply(socket, { return: { echo: msg.arguments }, id: msg.id })
      for (const h of held.splice(0)) h()
    }
  })
  const qmp = await QmpClient.connect(path)
  t.teardown(() => { qmp.close() })
  t.deepEqual(await qmp.execute('query-status'), { status: 'running', running: true })
  const [slow, fast] = await Promise.all([qmp.execute('slow'), qmp.execute('fast', { a: 1 })])
  t.is(slow, 'slow')
  t.deepEqual(fast, { echo: { a: 1 } })
  t.deepEqual(seen, ['qmp_capabilities', 'query-status', 'slow', 'fast'])
})

test('an error answer becomes a QmpError with its class; events go to the listener', async t => {
  const { path } = await fakeMonitor(t, (msg, socket) => {
    reply(socket, { event: 'MIGRATION', data: { status: 'active' }, timestamp: { seconds: 1, microseconds: 0 } })
    reply(socket, { error: { class: 'GenericError', desc: 'no migration in progress' }, id: msg.id })
  })
  const events: QmpEvent[] = []
  const qmp = await QmpClient.connect(path, { onEvent: e => events.push(e) })
  t.teardown(() => { qmp.close() })
  const err = await t.throwsAsync(qmp.execute('migrate_cancel'), { name: 'QmpError', message: /migrate_cancel: GenericError: no migration in progress/ })
  t.is((err as Error & { errorClass?: string }).errorClass, 'GenericError')
  t.deepEqual(events.map(e => e.event), ['MIGRATION'])
})

test('a busy monitor (no greeting), a silent command and a vanished QEMU end as errors, not hangs', async t => {
  const silent = await fakeMonitor(t, () => undefined, { greet: false })
  await t.throwsAsync(QmpClient.connect(silent.path, { timeoutMs: 300 }), { name: 'HypervisorError', message: /no greeting within 300 ms/ })

  const mute = await fakeMonitor(t, (msg, socket) => { if (msg.execute === 'quit') socket.destroy() })
  const qmp = await QmpClient.connect(mute.path)
  await t.throwsAsync(qmp.execute('query-status', undefined, { timeoutMs: 200 }), { name: 'HypervisorError', message: /no answer within 200 ms/ })
  await t.throwsAsync(qmp.execute('quit'), { name: 'HypervisorError', message: /closed/ })
  t.true(qmp.closed)
  await t.throwsAsync(qmp.execute('query-status'), { name: 'HypervisorError' })

  // A socket file with nobody listening, and a file that is not a socket.
  const dir = await mkdtemp(join(tmpdir(), 'htqemu-qmp-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  await writeFile(join(dir, 'junk.qmp'), 'x')
  await t.throwsAsync(QmpClient.connect(join(dir, 'junk.qmp')), { name: 'HypervisorError' })
  await t.throwsAsync(QmpClient.connect(join(dir, 'absent.qmp')), { name: 'HypervisorError', message: /ENOENT/ })
})
