import { lpStream } from '@libp2p/utils'
import test from 'ava'
import { handle, request } from '../../../agent/net/request.ts'
import { startCluster } from './cluster.ts'
import type { ClusterNode } from '../../../agent/net/node.ts'

async function pair (t: Parameters<typeof startCluster>[0]): Promise<[ClusterNode, ClusterNode, string]> {
  const [a, b] = await startCluster(t, 2) as [ClusterNode, ClusterNode]
  return [a, b, b.protocol('migrate')]
}

test('a reservation request gets its answer; the handler sees the authenticated peer', async t => {
  t.timeout(30_000)
  const [a, b, migrate] = await pair(t)
  t.is(migrate, '/heliotrope/test/migrate/1.0.0')
  const seen: string[] = []
  await handle(b, migrate, (body, ctx) => {
    seen.push(ctx.peer)
    const req = body as { vm: string, memoryMiB: number }
    return { admit: req.memoryMiB <= 4096, vm: req.vm, until: 1_700_000_000_000 }
  })
  t.deepEqual(await request(a, b.peerId, migrate, { vm: 'vm-1', memoryMiB: 2048 }), { admit: true, vm: 'vm-1', until: 1_700_000_000_000 })
  t.deepEqual(await request(a, b.peerId, migrate, { vm: 'vm-2', memoryMiB: 8192 }), { admit: false, vm: 'vm-2', until: 1_700_000_000_000 })
  t.deepEqual(seen, [a.peerId, a.peerId])
})

test('an oversized request is refused by the handler side and, first, by the sender', async t => {
  t.timeout(30_000)
  const [a, b, migrate] = await pair(t)
  let calls = 0
  await handle(b, migrate, () => { calls++; return 'ok' }, { maxBytes: 1024 })
  const big = new Uint8Array(200_000)
  // The sender's own bound stops it before any byte leaves.
  await t.throwsAsync(request(a, b.peerId, migrate, big, { maxBytes: 1024 }), { name: 'MessageTooLargeError' })
  // A sender with a looser bound is refused by the handler side.
  const err = await t.throwsAsync(request(a, b.peerId, migrate, big, { maxBytes: 1 << 20 }), { name: 'RemoteError' })
  t.is((err as Error & { code?: string }).code, 'too-large')
  t.is(calls, 0, 'the handler never saw it')
  t.is(await request(a, b.peerId, migrate, 'small'), 'ok', 'the protocol still serves')
})

test('handler failures, malformed bodies and slow handlers end as errors, not hangs', async t => {
  t.timeout(30_000)
  const [a, b, migrate] = await pair(t)
  await handle(b, migrate, async (body) => {
    if (body === 'fail') throw new Error('no room')
    if (body === 'slow') await new Promise(resolve => setTimeout(resolve, 5_000))
    return 'ok'
  }, { timeoutMs: 3_000 })
  const failed = await t.throwsAsync(request(a, b.peerId, migrate, 'fail'), { name: 'RemoteError', message: /no room/ })
  t.is((failed as Error & { code?: string }).code, 'handler-failed')
  await t.throwsAsync(request(a, b.peerId, migrate, 'slow', { timeoutMs: 500 }), { name: 'RequestTimeoutError' })

  // Bytes that are not CBOR, sent by hand.
  const stream = await a.libp2p.dialProtocol(b.libp2p.peerId, migrate)
  const lp = lpStream(stream)
  await lp.write(Uint8Array.of(0xff, 0xff, 0xff))
  const raw = await lp.read({ signal: AbortSignal.timeout(3_000) })
  t.regex(new TextDecoder().decode(raw.subarray()), /bad-request/)
  t.is(await request(a, b.peerId, migrate, 'again'), 'ok')
})

test('a protocol nobody serves fails fast', async t => {
  t.timeout(20_000)
  const [a, b] = await pair(t)
  await t.throwsAsync(request(a, b.peerId, b.protocol('nothing'), 1), { name: 'UnsupportedProtocolError' })
})
