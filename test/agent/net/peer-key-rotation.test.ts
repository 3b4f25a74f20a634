/** Replacing the peer key on disk (agent/net/peer-key-rotation.ts): the old key kept beside the new one, both 0600; no key, nothing written. */
import { chmod, link, mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { KeyFileError } from '../../../agent/net/errors.ts'
import { loadOrCreatePeerKey, parsePeerKey, PEER_KEY_FILE } from '../../../agent/net/keys.ts'
import { currentPeerId, replacedKeyFile, replacePeerKey } from '../../../agent/net/peer-key-rotation.ts'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'

async function tempDir (t: { teardown(fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'heliotrope-peer-key-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  return dir
}

const peerIdOf = async (path: string): Promise<string> => peerIdFromPrivateKey(parsePeerKey(new Uint8Array(await readFile(path)))).toString()

test('a rotation writes a new peer key and keeps the old one as peer.key.replaced.<old peer id>, both mode 0600; the next start loads the new one', async t => {
  const dir = await tempDir(t)
  const before = await loadOrCreatePeerKey(dir)
  const r = await replacePeerKey(dir)
  t.is(r.oldPeerId, before.peerId)
  t.not(r.newPeerId, before.peerId)
  t.is(r.keptAs, join(dir, `${PEER_KEY_FILE}.replaced.${before.peerId}`))
  t.is(await peerIdOf(r.keptAs), before.peerId, 'the old key, whole')
  t.is(await peerIdOf(r.path), r.newPeerId)
  for (const p of [r.path, r.keptAs]) t.is((await stat(p)).mode & 0o777, 0o600, p)
  const loaded = await loadOrCreatePeerKey(dir)
  t.false(loaded.created)
  t.is(loaded.peerId, r.newPeerId)
  t.is(await currentPeerId(dir), r.newPeerId)
  t.deepEqual((await readdir(dir)).sort(), [PEER_KEY_FILE, `${PEER_KEY_FILE}.replaced.${before.peerId}`], 'no temporary file left')

  // Twice: each old key under its own name.
  const again = await replacePeerKey(dir)
  t.is(again.oldPeerId, r.newPeerId)
  t.is((await readdir(dir)).length, 3)
})

test('a run that kept the old key and stopped before its rename can run again', async t => {
  const dir = await tempDir(t)
  const before = await loadOrCreatePeerKey(dir)
  await link(before.path, replacedKeyFile(dir, before.peerId))
  const r = await replacePeerKey(dir)
  t.is(r.oldPeerId, before.peerId)
  t.is(await peerIdOf(r.keptAs), before.peerId)
})

test('no peer key, or one others may read: an error naming the file, and nothing written', async t => {
  const dir = await tempDir(t)
  const none = await t.throwsAsync(replacePeerKey(dir), { instanceOf: KeyFileError })
  t.regex(none.message, /no peer key to rotate/)
  t.deepEqual(await readdir(dir), [])
  const key = await loadOrCreatePeerKey(dir)
  await chmod(key.path, 0o644)
  await t.throwsAsync(replacePeerKey(dir), { instanceOf: KeyFileError, message: /chmod 600/ })
  t.deepEqual(await readdir(dir), [PEER_KEY_FILE])
})
