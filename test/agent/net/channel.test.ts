import test from 'ava'
import { Channels } from '../../../agent/net/channel.ts'
import { startCluster } from './cluster.ts'
import type { ClusterNode } from '../../../agent/net/node.ts'

const OPTS = { maxBytes: 4096, timeoutMs: 10_000 }

async function pair (t: Parameters<typeof startCluster>[0]): Promise<[ClusterNode, ClusterNode, string]> {
  const [a, b] = await startCluster(t, 2) as [ClusterNode, ClusterNode]
  return [a, b, b.protocol('relay', '2.0.0')]
}

/** Streams of `protocol` on a's connections to b (each side sees its own end). */
function streamsOf (node: ClusterNode, peer: string, protocol: string): number {
  return node.libp2p.getConnections().filter(c => c.remotePeer.toString() === peer)
    .flatMap(c => c.streams).filter(s => s.protocol === protocol).length
}

test('many concurrent requests are answered, each with its own answer, on one stream', async t => {
  t.timeout(30_000)
  const [a, b, protocol] = await pair(t)
  const seen = new Set<string>()
  const server = new Channels(b, protocol, async (body, ctx) => {
    seen.add(ctx.peer)
    const n = body as number
    // Answers come back out of order: the id, not the order, matches them.
    await new Promise(resolve => setTimeout(resolve, (n * 7) % 20))
    return n * 2
  }, OPTS)
  const client = new Channels(a, protocol, () => 'unused', OPTS)
  await server.start()
  await client.start()
  t.teardown(async () => { await client.stop(); await server.stop() })
  const answers = await Promise.all(Array.from({ length: 200 }, async (_, n) => await client.request(b.peerId, n)))
  t.deepEqual(answers, Array.from({ length: 200 }, (_, n) => n * 2))
  t.deepEqual([...seen], [a.peerId], 'the handler sees the authenticated peer')
  t.is(streamsOf(a, b.peerId, protocol), 1, 'one stream carried all 200 exchanges')
})

test('handler failures, oversized bodies and slow handlers end as errors, and the channel goes on', async t => {
  t.timeout(30_000)
  const [a, b, protocol] = await pair(t)
  const server = new Channels(b, protocol, async (body) => {
    if (body === 'fail') throw new Error('no room')
    if (body === 'slow') await new Promise(resolve => setTimeout(resolve, 3_000))
    if (body === 'huge') return new Uint8Array(10_000)
    return 'ok'
  }, OPTS)
  const client = new Channels(a, protocol, () => 'unused', { ...OPTS, timeoutMs: 1_000 })
  await server.start()
  t.teardown(async () => { await client.stop(); await server.stop() })
  const failed = await t.throwsAsync(client.request(b.peerId, 'fail'), { name: 'RemoteError', message: /no room/ })
  t.is((failed as Error & { code?: string }).code, 'handler-failed')
  const huge = await t.throwsAsync(client.request(b.peerId, 'huge'), { name: 'RemoteError', message: /exceeds/ })
  t.is((huge as Error & { code?: string }).code, 'handler-failed')
  await t.throwsAsync(client.request(b.peerId, new Uint8Array(10_000)), { name: 'MessageTooLargeError' })
  await t.throwsAsync(client.request(b.peerId, 'slow'), { name: 'RequestTimeoutError' })
  t.is(await client.request(b.peerId, 'again'), 'ok')
  t.is(streamsOf(a, b.peerId, protocol), 1)
})

test('bytes that are not a frame reset only that stream; pending requests fail and the next opens a new one', async t => {
  t.timeout(30_000)
  const [a, b, protocol] = await pair(t)
  let release: () => void = () => {}
  const held = new Promise<void>(resolve => { release = resolve })
  const server = new Channels(b, protocol, async (body) => {
    if (body === 'hold') await held
    // Never answered: only the stream's end can settle it.
    if (body === 'forever') await new Promise(() => {})
    return 'ok'
  }, OPTS)
  const client = new Channels(a, protocol, () => 'unused', OPTS)
  await server.start()
  t.teardown(async () => { release(); await client.stop(); await server.stop() })
  const waiting = client.request(b.peerId, 'hold')
  // Garbage on a stream of its own (a misbehaving peer): the server resets that stream only.
  const raw = await a.libp2p.dialProtocol(b.libp2p.peerId, protocol)
  const closed = new Promise<void>(resolve => { raw.addEventListener('close', () => { resolve() }) })
  raw.send(Uint8Array.of(0x03, 0xff, 0xff, 0xff))
  await closed
  t.not(raw.status, 'open')
  release()
  t.is(await waiting, 'ok', 'the good stream still answered')

  // Now the client's own stream ends under a pending request: it fails at once, not at its timeout.
  const pending = client.request(b.peerId, 'forever')
  for (const c of a.libp2p.getConnections(b.libp2p.peerId)) for (const s of c.streams) if (s.protocol === protocol && s !== raw) s.abort(new Error('cut'))
  await t.throwsAsync(pending, { name: 'ChannelClosedError' })
  t.is(await client.request(b.peerId, 'after'), 'ok', 'a new stream was opened')
})

test('a stopped server refuses; a request to a peer that does not serve the protocol fails', async t => {
  t.timeout(30_000)
  const [a, b, protocol] = await pair(t)
  const client = new Channels(a, protocol, () => 'unused', { ...OPTS, timeoutMs: 3_000 })
  t.teardown(async () => { await client.stop() })
  await t.throwsAsync(client.request(b.peerId, 'anyone?'))
  await client.stop()
  await t.throwsAsync(client.request(b.peerId, 'x'), { name: 'ChannelClosedError' })
})

test('a peer that stopped: the next request fails as closed or undialable, not by waiting out its timeout', async t => {
  t.timeout(60_000)
  const [a, b, protocol] = await pair(t)
  const server = new Channels(b, protocol, () => 'ok', OPTS)
  const client = new Channels(a, protocol, () => 'unused', { ...OPTS, timeoutMs: 20_000 })
  await server.start()
  t.teardown(async () => { await client.stop() })
  t.is(await client.request(b.peerId, 'hello'), 'ok')
  await server.stop()
  await b.stop()
  const err = await t.throwsAsync(client.request(b.peerId, 'anyone?'))
  t.log(`${err?.name}: ${err?.message}`)
  t.not(err?.name, 'RequestTimeoutError')
})

test('a peer that stopped: `closed` names it at once; our own stop names no one', async t => {
  t.timeout(60_000)
  const [a, b, protocol] = await pair(t)
  const server = new Channels(b, protocol, () => 'ok', OPTS)
  await server.start()
  // Our own stop, the peer alive: nothing is reported.
  const quiet: string[] = []
  const first = new Channels(a, protocol, () => 'unused', { ...OPTS, closed: (peer) => { quiet.push(peer) } })
  t.is(await first.request(b.peerId, 'hello'), 'ok')
  await first.stop()
  // The peer dies while our stream to it is open.
  const closed: string[] = []
  let told: () => void = () => {}
  const toldOnce = new Promise<void>(resolve => { told = resolve })
  const second = new Channels(a, protocol, () => 'unused', { ...OPTS, closed: (peer) => { closed.push(peer); told() } })
  t.teardown(async () => { await second.stop() })
  t.is(await second.request(b.peerId, 'hello'), 'ok')
  await server.stop()
  await b.stop()
  await toldOnce
  t.deepEqual(closed, [b.peerId])
  t.deepEqual(quiet, [], 'stopping named no one')
})
