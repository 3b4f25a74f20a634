/**
 * The agent's long-lived secrets on disk: its Ed25519 peer key (its identity
 * in the cluster) and the cluster's pre-shared key (libp2p private network).
 * Files are created with mode 0600, atomically, and an existing file is never
 * replaced: a file that cannot be read is an error for the operator, not a
 * reason to mint a new identity.
 */
import { createHash, randomBytes } from 'node:crypto'
import { chmod, link, mkdir, open, readFile, stat, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { generateKeyPair, privateKeyFromProtobuf, privateKeyToProtobuf } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { KeyFileError } from './errors.ts'
import type { PrivateKey } from '@libp2p/interface'

/** File name of the peer key inside the state directory. */
export const PEER_KEY_FILE = 'peer.key'
/** Mode of every secret file. */
export const SECRET_FILE_MODE = 0o600
/** Mode of a state directory we create. */
export const STATE_DIR_MODE = 0o700

/** First two lines of a pnet key file, as @libp2p/pnet's generateKey writes them. */
const PSK_HEADER = '/key/swarm/psk/1.0.0/\n/base16/\n'
const PSK_BYTES = 32

export interface LoadedKey<T> {
  key: T
  path: string
  /** True when this call wrote the file. */
  created: boolean
}

/**
 * Loads the peer key from `<stateDir>/peer.key`, or creates an Ed25519 key
 * there when the file does not exist. The file holds the libp2p protobuf
 * encoding of the private key.
 */
export async function loadOrCreatePeerKey (stateDir: string): Promise<LoadedKey<PrivateKey> & { peerId: string }> {
  const path = join(stateDir, PEER_KEY_FILE)
  const loaded = await loadOrCreate(path, async () => privateKeyToProtobuf(await generateKeyPair('Ed25519')), parsePeerKey)
  return { ...loaded, peerId: peerIdFromPrivateKey(loaded.key).toString() }
}

/** Parses a peer key file's bytes; only Ed25519 keys are accepted. */
export function parsePeerKey (bytes: Uint8Array, path = '(bytes)'): PrivateKey {
  let key: PrivateKey
  try {
    key = privateKeyFromProtobuf(bytes)
  } catch (err) {
    throw new KeyFileError(path, `not a libp2p private key (${(err as Error).message})`)
  }
  if (key.type !== 'Ed25519') throw new KeyFileError(path, `expected an Ed25519 key, found ${key.type}`)
  return key
}

/**
 * Loads the cluster's pre-shared key from `path`, or creates one there. The
 * returned bytes are the key file in its canonical form, which is what
 * `preSharedKey({ psk })` from @libp2p/pnet expects.
 */
export async function loadOrCreatePsk (path: string): Promise<LoadedKey<Uint8Array>> {
  return await loadOrCreate(path, async () => generatePsk(), parsePsk)
}

/** Reads an existing pre-shared key file; never creates one. */
export async function readPsk (path: string): Promise<Uint8Array> {
  return parsePsk(await readSecret(path), path)
}

/** A new pre-shared key file's bytes (the format of @libp2p/pnet's generateKey). */
export function generatePsk (): Uint8Array {
  return new TextEncoder().encode(PSK_HEADER + randomBytes(PSK_BYTES).toString('hex'))
}

/**
 * Validates a pnet key file and returns its canonical bytes. The file holds
 * one key (tag line, codec line, 64 hex digits) or, during a rotation of the
 * cluster key, several such blocks one after the other (blank lines between
 * them allowed): the first is the key this host speaks with, every one is a
 * key it accepts (keyring-protector.ts).
 */
export function parsePsk (bytes: Uint8Array, path = '(bytes)'): Uint8Array {
  const lines = new TextDecoder().decode(bytes).split(/\r?\n/).filter(line => line.trim() !== '')
  const blocks: string[] = []
  for (let i = 0; i < lines.length || blocks.length === 0; i += 3) {
    const [tag, codec, hex] = lines.slice(i, i + 3)
    const which = blocks.length === 0 ? '' : ` (key ${blocks.length + 1})`
    if (tag !== '/key/swarm/psk/1.0.0/') throw new KeyFileError(path, blocks.length === 0 ? 'first line is not /key/swarm/psk/1.0.0/' : `unexpected text after the key: a second key starts with /key/swarm/psk/1.0.0/${which}`)
    if (codec !== '/base16/') throw new KeyFileError(path, `second line is not /base16/ (the only codec supported)${which}`)
    if (hex === undefined || !/^[0-9a-fA-F]{64}$/.test(hex)) throw new KeyFileError(path, `third line is not ${PSK_BYTES} bytes in hex${which}`)
    blocks.push(PSK_HEADER + hex.toLowerCase())
  }
  if (new Set(blocks).size !== blocks.length) throw new KeyFileError(path, 'the same key twice')
  return new TextEncoder().encode(blocks.join('\n\n'))
}

/** A key's name in logs and status: the first 8 hex digits of its sha256 (never the key). */
export function keyFingerprint (key: Uint8Array): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8)
}

/** What a key file holds, for the operator: one key, or a ring with the one spoken first (fingerprints only). */
export function describePsk (canonical: Uint8Array): string {
  const prints = pskKeys(canonical).map(keyFingerprint)
  return prints.length === 1 ? `a valid key (${prints[0]!})` : `${prints.length} valid keys, a rotation under way: speaks ${prints[0]!}, accepts ${prints.join(' ')}`
}

/** A key file's bytes for raw 32-byte `keys`, the one to speak with first (parsePsk's canonical form). */
export function formatPsk (keys: readonly Uint8Array[]): Uint8Array {
  return new TextEncoder().encode(keys.map(k => PSK_HEADER + Buffer.from(k).toString('hex')).join('\n\n'))
}

/** The raw 32-byte keys of a key file as parsePsk returns it, the one to speak with first. */
export function pskKeys (canonical: Uint8Array): Uint8Array[] {
  return new TextDecoder().decode(canonical).split('\n\n').map(block => Uint8Array.from(Buffer.from(block.slice(PSK_HEADER.length), 'hex')))
}

/** Loads a secret file with `parse`, or creates it from `make()` (mode 0600, never replacing one): the admin key uses it too. */
export async function loadOrCreate<T> (
  path: string,
  make: () => Promise<Uint8Array>,
  parse: (bytes: Uint8Array, path: string) => T
): Promise<LoadedKey<T>> {
  try {
    return { key: parse(await readSecret(path), path), path, created: false }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const bytes = await make()
  const key = parse(bytes, path)
  if (await createExclusive(path, bytes)) return { key, path, created: true }
  // Another process created it between our read and our write: use theirs.
  return { key: parse(await readSecret(path), path), path, created: false }
}

/** Reads a secret file, refusing one that group or others may read or write. */
export async function readSecret (path: string): Promise<Uint8Array> {
  const info = await stat(path)
  if (!info.isFile()) throw new KeyFileError(path, 'not a regular file')
  if ((info.mode & 0o077) !== 0) {
    throw new KeyFileError(path, `mode ${(info.mode & 0o777).toString(8)} lets others read it; run chmod 600`)
  }
  return new Uint8Array(await readFile(path))
}

/**
 * Writes `bytes` to a temporary file, then hard-links it into place: the key
 * appears whole or not at all, and link() fails rather than replace an
 * existing file. Returns false when `path` already existed.
 */
async function createExclusive (path: string, bytes: Uint8Array): Promise<boolean> {
  await mkdir(dirname(path), { recursive: true, mode: STATE_DIR_MODE })
  const tmp = `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`
  const file = await open(tmp, 'wx', SECRET_FILE_MODE)
  try {
    await file.writeFile(bytes)
    await file.sync()
  } finally {
    await file.close()
  }
  try {
    // The umask can only clear bits, but be explicit about the result.
    await chmod(tmp, SECRET_FILE_MODE)
    await link(tmp, path)
    return true
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false
    throw err
  } finally {
    await unlink(tmp).catch(() => {})
  }
}
