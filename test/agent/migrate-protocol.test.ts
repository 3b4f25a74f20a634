import test from 'ava'
import { readMigrateResponse } from '../../agent/migrate-protocol.ts'

// The source hands a target's answer to its hypervisor driver: only the
// shapes the protocol defines may pass (fuzzed in lab/fuzz, target migrate-reply).
test('a target\'s answer: every driver\'s admission, commit/cancel and refusals pass; anything else is refused with its path', t => {
  const good = [
    { ok: true, target: { address: 'fd00::2', uri: 'sim:h2' }, expiresAt: 1 },
    { ok: true, target: { address: 'fd00::2', port: 49152, uri: 'tcp:[fd00::2]:49152' }, expiresAt: 1 },
    { ok: true, target: { address: 'fd00::2' } },
    { ok: true },
    { ok: false, reason: 'no-room', detail: '' }
  ]
  for (const g of good) t.deepEqual(readMigrateResponse(g), g)
  t.is((readMigrateResponse({ ok: false, reason: 'busy', detail: 'x'.repeat(5000) }) as { detail: string }).detail.length, 1024, 'a long detail is cut, not refused')
  const bad: Array<[unknown, string]> = [
    [null, 'not an object'],
    [{ ok: 'yes' }, 'ok'],
    [{ ok: false, reason: 'nope', detail: '' }, 'reason'],
    [{ ok: false, reason: 'busy' }, 'detail'],
    [{ ok: true, target: { address: 'fd00::2', port: 0 } }, 'target.port'],
    [{ ok: true, target: { port: 1 } }, 'target.address'],
    [{ ok: true, target: { address: 'fd00::2', cmd: 'rm -rf /' } }, 'target.cmd'],
    [{ ok: true, extra: 1 }, 'extra'],
    [{ ok: true, expiresAt: -1 }, 'expiresAt']
  ]
  for (const [input, path] of bad) {
    const r = readMigrateResponse(input)
    t.is(typeof r, 'string', JSON.stringify(input))
    t.true((r as string).startsWith(path), `${JSON.stringify(input)}: ${String(r)}`)
  }
})
