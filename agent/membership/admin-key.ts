/**
 * The cluster admin key (docs/design.md §3.7): an Ed25519 key that signs
 * invitations and revocations. `heliotrope init` makes it on the first host
 * (DIR/admin.key, PKCS#8 PEM, mode 0600); its public half goes in every
 * config (`adminKey`, base64 of the SPKI DER) and is all an agent needs to
 * check the records. Keep the private half on few hosts, or offline.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { KeyFileError } from '../net/errors.ts'
import { loadOrCreate, readSecret } from '../net/keys.ts'
import type { KeyVerifier } from '../../lib/admin-keys.ts'
import type { VerifyAdmin } from '../../lib/membership.ts'

export const ADMIN_KEY_FILE = 'admin.key'

export interface AdminKey {
  privateKey: KeyObject
  /** What goes in the config's `adminKey`. */
  publicKey: string
}

function parseAdminKey (bytes: Uint8Array, path: string): AdminKey {
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey({ key: Buffer.from(bytes), format: 'pem' })
  } catch (err) {
    throw new KeyFileError(path, `not a PEM private key (${(err as Error).message})`)
  }
  if (privateKey.asymmetricKeyType !== 'ed25519') throw new KeyFileError(path, `expected an ed25519 key, found ${privateKey.asymmetricKeyType ?? 'none'}`)
  return { privateKey, publicKey: publicKeyText(createPublicKey(privateKey)) }
}

function publicKeyText (key: KeyObject): string {
  return key.export({ type: 'spki', format: 'der' }).toString('base64')
}

/** A new admin key, not yet on disk (`heliotrope admin-key rotate` writes it once the agent took it). */
export function generateAdminKey (): AdminKey & { pem: string } {
  const { privateKey } = generateKeyPairSync('ed25519')
  return { privateKey, publicKey: publicKeyText(createPublicKey(privateKey)), pem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }
}

/** How operators name an admin public key: the first 8 hex digits of the sha256 of its SPKI DER (as the cluster key's fingerprints). */
export function adminKeyFingerprint (publicKey: string): string {
  return createHash('sha256').update(Buffer.from(publicKey, 'base64')).digest('hex').slice(0, 8)
}

/** Loads `path`, or makes a new admin key there (mode 0600); `created` says which. */
export async function loadOrCreateAdminKey (path: string): Promise<AdminKey & { created: boolean, path: string }> {
  const loaded = await loadOrCreate(path, async () => {
    const { privateKey } = generateKeyPairSync('ed25519')
    return new Uint8Array(Buffer.from(privateKey.export({ type: 'pkcs8', format: 'pem' })))
  }, parseAdminKey)
  return { ...loaded.key, created: loaded.created, path }
}

/** Reads an existing admin key (refused when others may read it, as every secret). */
export async function readAdminKey (path: string): Promise<AdminKey> {
  return parseAdminKey(await readSecret(path), path)
}

export function signAdmin (key: AdminKey, bytes: Uint8Array): Uint8Array {
  return new Uint8Array(sign(null, bytes, key.privateKey))
}

/** A checker of the config's `adminKey` for lib/membership.ts; throws on a key that is no ed25519 public key. */
export function adminVerifier (publicKey: string): VerifyAdmin {
  const key = createPublicKey({ key: Buffer.from(publicKey, 'base64'), format: 'der', type: 'spki' })
  if (key.asymmetricKeyType !== 'ed25519') throw new TypeError(`adminKey is a ${key.asymmetricKeyType ?? 'unknown'} key, not ed25519`)
  return (bytes, sig) => {
    try { return verify(null, bytes, key, sig) } catch { return false }
  }
}

/** lib/admin-keys.ts's checker factory: undefined for a text that is no ed25519 public key. */
export const keyVerifier: KeyVerifier = (publicKey) => {
  try { return adminVerifier(publicKey) } catch { return undefined }
}

/** True when `text` reads as an ed25519 public key (the config's check). */
export function validAdminKey (text: string): boolean {
  try { adminVerifier(text); return true } catch { return false }
}
