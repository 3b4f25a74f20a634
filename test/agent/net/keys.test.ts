import { chmod, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateKey } from '@libp2p/pnet'
import test from 'ava'
import { KeyFileError } from '../../../agent/net/errors.ts'
import { describePsk, generatePsk, loadOrCreatePeerKey, loadOrCreatePsk, parsePsk, pskKeys, PEER_KEY_FILE } from '../../../agent/net/keys.ts'
import { createNode } from '../../../agent/net/node.ts'
import { LOOPBACK_LISTEN } from './cluster.ts'

async function tempDir (t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'heliotrope-keys-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

test('the peer key is created once with mode 0600 and reused afterwards', async t => {
  const dir = join(await tempDir(t), 'state')
  const first = await loadOrCreatePeerKey(dir)
  t.true(first.created)
  t.is(first.key.type, 'Ed25519')
  t.is((await stat(first.path)).mode & 0o777, 0o600)
  t.is((await stat(dir)).mode & 0o777, 0o700)
  const again = await loadOrCreatePeerKey(dir)
  t.false(again.created)
  t.is(again.peerId, first.peerId)
  t.true(again.key.equals(first.key))
})

test('concurrent first starts agree on one key', async t => {
  const dir = await tempDir(t)
  const keys = await Promise.all([1, 2, 3, 4].map(async () => await loadOrCreatePeerKey(dir)))
  t.is(new Set(keys.map(k => k.peerId)).size, 1)
  t.is(keys.filter(k => k.created).length, 1)
})

test('a peer key readable by others is refused, not replaced', async t => {
  const dir = await tempDir(t)
  const { path } = await loadOrCreatePeerKey(dir)
  const before = await readFile(path)
  await chmod(path, 0o644)
  const err = await t.throwsAsync(loadOrCreatePeerKey(dir), { instanceOf: KeyFileError })
  t.regex(err.message, /644.*chmod 600/)
  t.deepEqual(await readFile(path), before)
})

test('a corrupt peer key is an error and stays on disk', async t => {
  const dir = await tempDir(t)
  const path = join(dir, PEER_KEY_FILE)
  await writeFile(path, 'not a key', { mode: 0o600 })
  await t.throwsAsync(loadOrCreatePeerKey(dir), { instanceOf: KeyFileError, message: /not a libp2p private key/ })
  t.is(await readFile(path, 'utf8'), 'not a key')
})

test('the PSK file is the pnet format, created 0600 and reused', async t => {
  const path = join(await tempDir(t), 'swarm.key')
  const first = await loadOrCreatePsk(path)
  t.true(first.created)
  t.is((await stat(path)).mode & 0o777, 0o600)
  t.regex(new TextDecoder().decode(first.key), /^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}$/)
  const again = await loadOrCreatePsk(path)
  t.false(again.created)
  t.deepEqual(again.key, first.key)
})

test('keys written by @libp2p/pnet generateKey are accepted; malformed ones are not', t => {
  const theirs = new Uint8Array(95)
  generateKey(theirs)
  t.deepEqual(parsePsk(theirs), theirs)
  t.is(generatePsk().byteLength, 95)
  const text = new TextDecoder().decode(theirs)
  const bad = (s: string): Uint8Array => new TextEncoder().encode(s)
  t.deepEqual(parsePsk(bad(text + '\n')), theirs, 'a trailing newline is fine')
  t.throws(() => parsePsk(bad(text.slice(0, -2))), { instanceOf: KeyFileError })
  t.throws(() => parsePsk(bad(text.replace('/base16/', '/base64/'))), { instanceOf: KeyFileError })
  t.throws(() => parsePsk(bad(text + '\nextra')), { instanceOf: KeyFileError })
})

test('a key file may hold several keys during a rotation: the first is spoken, each is accepted; a repeated or broken one is refused', t => {
  const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
  const [a, b] = [dec(generatePsk()), dec(generatePsk())]
  const two = parsePsk(enc(`${a}\n\n${b}\n`))
  t.is(dec(two), `${a}\n\n${b}`, 'canonical: blocks one blank line apart')
  t.deepEqual(parsePsk(enc(`${a}\n${b}`)), two, 'the blank line between them is optional')
  const keys = pskKeys(two)
  t.is(keys.length, 2)
  t.deepEqual(Buffer.from(keys[0]!).toString('hex'), a.split('\n')[2])
  t.regex(describePsk(two), /^2 valid keys, a rotation under way: speaks [0-9a-f]{8}, accepts [0-9a-f]{8} [0-9a-f]{8}$/)
  t.regex(describePsk(parsePsk(enc(a))), /^a valid key \([0-9a-f]{8}\)$/)
  t.throws(() => parsePsk(enc(`${a}\n\n${a}`)), { instanceOf: KeyFileError, message: /the same key twice/ })
  t.throws(() => parsePsk(enc(`${a}\n\n${b.slice(0, -3)}`)), { instanceOf: KeyFileError, message: /key 2/ })
})

test('a restarted node keeps its peer id', async t => {
  t.timeout(20_000)
  const dir = await tempDir(t)
  const psk = (await loadOrCreatePsk(join(dir, 'swarm.key'))).key
  const start = async (): Promise<string> => {
    const { key } = await loadOrCreatePeerKey(dir)
    const node = await createNode({ cluster: 'test', privateKey: key, psk, allow: () => true, listen: LOOPBACK_LISTEN })
    const id = node.libp2p.peerId.toString()
    await node.stop()
    return id
  }
  const first = await start()
  t.is(await start(), first)
  t.is((await loadOrCreatePeerKey(dir)).peerId, first)
})
