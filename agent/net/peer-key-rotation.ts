/**
 * Replacing this host's peer key (its libp2p identity) on disk, for a
 * rotation (`heliotrope key rotate-peer`, docs/operations.md): the old key
 * is kept beside the new one, named by its peer id, and the new key takes
 * `peer.key`'s place in one rename, so a crash leaves either key whole,
 * never none. A running node cannot change its peer id: the agent takes
 * the new key at its next start.
 */
import { randomBytes } from 'node:crypto'
import { chmod, link, open, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { KeyFileError } from './errors.ts'
import { parsePeerKey, PEER_KEY_FILE, readSecret, SECRET_FILE_MODE } from './keys.ts'

/** The old key's name beside the new one: `peer.key.replaced.<its peer id>`, so `ls` says whose it was. */
export function replacedKeyFile (stateDir: string, oldPeerId: string): string {
  return join(stateDir, `${PEER_KEY_FILE}.replaced.${oldPeerId}`)
}

export interface ReplacedPeerKey {
  /** STATE/peer.key, now the new key. */
  path: string
  oldPeerId: string
  newPeerId: string
  /** Where the old key is kept (mode 0600). */
  keptAs: string
}

/** The peer id of the key in STATE/peer.key; a KeyFileError when there is none (nothing to rotate) or it is unusable. */
export async function currentPeerId (stateDir: string): Promise<string> {
  const path = join(stateDir, PEER_KEY_FILE)
  let bytes: Uint8Array
  try {
    bytes = await readSecret(path)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new KeyFileError(path, 'there is no peer key to rotate; a new host gets its first key from heliotrope init')
    throw err
  }
  return peerIdFromPrivateKey(parsePeerKey(bytes, path)).toString()
}

/**
 * Makes a new Ed25519 peer key in STATE/peer.key, keeping the old one as
 * replacedKeyFile(). The old key is hard-linked to its new name first (it
 * stays whole under both names until the rename), then the new key is
 * written to a temporary file (0600, fsync'ed) and renamed over peer.key.
 */
export async function replacePeerKey (stateDir: string): Promise<ReplacedPeerKey> {
  const path = join(stateDir, PEER_KEY_FILE)
  const oldPeerId = await currentPeerId(stateDir)
  const keptAs = replacedKeyFile(stateDir, oldPeerId)
  try {
    await link(path, keptAs)
  } catch (err) {
    // Kept already by an earlier run that stopped before its rename: the same bytes are fine.
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !Buffer.from(await readFile(keptAs)).equals(Buffer.from(await readFile(path)))) throw err
  }
  await chmod(keptAs, SECRET_FILE_MODE)
  const key = await generateKeyPair('Ed25519')
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const file = await open(tmp, 'wx', SECRET_FILE_MODE)
  try {
    await file.writeFile(privateKeyToProtobuf(key))
    await file.sync()
  } finally {
    await file.close()
  }
  try {
    await chmod(tmp, SECRET_FILE_MODE)
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  await syncDir(stateDir)
  return { path, oldPeerId, newPeerId: peerIdFromPrivateKey(key).toString(), keptAs }
}

/** fsync of the directory, so the rename itself is on disk (as agent/durable-file.ts does). */
async function syncDir (dir: string): Promise<void> {
  const d = await open(dir, 'r')
  try { await d.sync() } finally { await d.close() }
}
