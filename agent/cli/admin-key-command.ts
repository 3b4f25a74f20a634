/**
 * `heliotrope admin-key show|rotate` (docs/design.md §3.7.1): the admin
 * keys the local agent trusts, and their rotation without downtime. The
 * rotation is signed here, with admin.key, from the records the agent
 * holds (control socket), and handed to that agent, which gossips it.
 */
import { open, rename, unlink } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import type { StatusResponse } from '../api/types.ts'
import { controlRequest } from '../control-socket/client.ts'
import { ADMIN_KEY_FILE, adminKeyFingerprint, generateAdminKey, readAdminKey } from '../membership/admin-key.ts'
import { rotationBundle } from '../membership/records.ts'
import { decodeBundle, encodeBundle } from '../membership/wire.ts'
import { resignSettings } from './cluster-sign.ts'
import { UsageError } from './errors.ts'
import { DEFAULT_CONFIG_PATH, REACH_OPTIONS, REACH_USAGE, apiClient, controlSocket } from './reach.ts'
import type { Command, ParsedArgs } from './run.ts'

/** What the agent answers to `{ op: 'admin-key' }` (agent/membership/membership.ts adminKey). */
export interface AdminKeyData {
  cluster: string
  keys: string[]
  fingerprints: string[]
  seq: number
  /** The seq the rotation's key record must carry. */
  nextSeq: number
  forks: number
  staleRecords: number
  /** base64 CBOR of the records that count there. */
  bundle: string
}

export const adminKeyCommand: Command = {
  name: 'admin-key',
  summary: 'show or rotate the cluster admin key (signed membership)',
  usage: `Usage: heliotrope admin-key show [--api ADDR | --config FILE] [--admin-key FILE] [--json]
       heliotrope admin-key rotate [--config FILE | --socket PATH] [--admin-key FILE]

show prints the admin keys the agent trusts now (fingerprints: the first 8
hex digits of the sha256 of the public key) and the seq of the key record
that named them (0: the config's adminKey), and whether this host's
admin.key is one of them.

rotate replaces the admin key without downtime, on a host holding admin.key:
it makes a new key, signs a key record naming it with the current one, signs
every certificate and revocation the local agent holds again with the new
key, and hands all of it to the agent, which gossips it: every agent trusts
the new key only, and no member drops out. Then admin.key is the new key; the
old one is kept beside it as admin.key.retired-FINGERPRINT (mode 0600).
Afterwards: copy admin.key to the other hosts that invite or remove members;
join tokens made before no longer work (invite again); set adminKey in the
configs to the new key at leisure (docs/operations.md, Rotating the admin
key). Run it on one host at a time.

${REACH_USAGE}
  --admin-key FILE  the admin key (default: admin.key next to the config)
  --json            show: print the agent's answer as JSON
`,
  options: { ...REACH_OPTIONS, 'admin-key': { type: 'string' }, json: { type: 'boolean' } },
  async run (args) {
    const [verb, ...rest] = args.positionals
    if (rest.length > 0) throw new UsageError(`unexpected ${JSON.stringify(rest[0])}`)
    if (verb === 'show') return await show(args)
    if (verb === 'rotate') return await rotate(args)
    throw new UsageError(verb === undefined ? 'admin-key needs show or rotate' : `unknown ${JSON.stringify(verb)}: admin-key show, admin-key rotate`)
  }
}

function keyFile (args: ParsedArgs): string {
  const v = args.values
  if (typeof v['admin-key'] === 'string') return v['admin-key']
  return join(dirname(typeof v.config === 'string' ? v.config : DEFAULT_CONFIG_PATH), ADMIN_KEY_FILE)
}

async function show (args: ParsedArgs): Promise<number> {
  const status = await (await apiClient(args)).json<StatusResponse>('/status')
  const keys = status.adminKeys
  if (args.values.json === true) { process.stdout.write(JSON.stringify(keys ?? null, null, 2) + '\n'); return 0 }
  if (keys === undefined) {
    process.stdout.write('this cluster has no admin key (no adminKey in the config): its members are the config\'s list\n')
    return 0
  }
  const lines = [`trusted    ${keys.fingerprints.join(' ')} (seq ${keys.seq}${keys.seq === 0 ? ': the config\'s adminKey' : ''})`]
  if (keys.forks > 0) lines.push(`FORKS      ${keys.forks}: a retired admin key signed a competing key record (see the agent's error log; docs/operations.md)`)
  if (keys.staleRecords > 0) lines.push(`stale      ${keys.staleRecords} record(s) from peers still on a retired key were ignored`)
  const file = keyFile(args)
  try {
    const own = await readAdminKey(file)
    const print = adminKeyFingerprint(own.publicKey)
    lines.push(`${file}  ${print} ${keys.fingerprints.includes(print) ? '(trusted: invite and members remove sign with it)' : '(NOT trusted: retired, or another cluster\'s; copy the current admin.key from the host that rotated)'}`)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') lines.push(`${file}  unreadable: ${(err as Error).message}`)
  }
  process.stdout.write(lines.join('\n') + '\n')
  return 0
}

async function rotate (args: ParsedArgs): Promise<number> {
  const r = await rotateAdminKey(keyFile(args), await controlSocket(args))
  if (!r.ok) { process.stderr.write(`heliotrope admin-key rotate: ${r.error}\n`); return 1 }
  process.stdout.write(r.lines.join('\n') + '\n')
  return 0
}

/**
 * The rotation itself (what `rotate` runs; tests call it in-process): reads
 * the agent's trusted keys and records on `socket`, signs, hands them over,
 * and only then replaces `file` (the old key kept beside it).
 */
export async function rotateAdminKey (file: string, socket: string): Promise<{ ok: true, lines: string[], publicKey: string, fingerprint: string, retiredFile: string } | { ok: false, error: string }> {
  const current = await readAdminKey(file)
  const shown = await controlRequest(socket, { op: 'admin-key' })
  if (!shown.ok) return shown
  const data = shown.data as AdminKeyData
  const oldPrint = adminKeyFingerprint(current.publicKey)
  if (!data.keys.includes(current.publicKey)) {
    return { ok: false, error: `${file} (${oldPrint}) is not an admin key the agent trusts (${data.fingerprints.join(' ')}, seq ${data.seq}): only a trusted key can sign the rotation` }
  }
  const held = decodeBundle(new Uint8Array(Buffer.from(data.bundle, 'base64')))
  if (typeof held === 'string') return { ok: false, error: `the agent's records do not read: ${held}` }
  const next = generateAdminKey()
  const newPrint = adminKeyFingerprint(next.publicKey)
  // The new key is on disk before any agent trusts it: a crash in between must not leave a trusted key nobody holds.
  const pending = `${file}.new`
  await writeSecret(pending, next.pem)
  const bundle = rotationBundle(current, next, data.cluster, data.nextSeq, held)
  let reply
  try {
    reply = await controlRequest(socket, { op: 'admin-key', rotate: Buffer.from(encodeBundle(bundle)).toString('base64') })
  } catch (err) {
    return { ok: false, error: `${(err as Error).message}; the new key is kept in ${pending}: check heliotrope admin-key show, and if the agent trusts ${newPrint}, move ${pending} to ${file}` }
  }
  const retired = `${file}.retired-${oldPrint}`
  if (!reply.ok) {
    // Refused, unless the key record was taken and something else was not: then the agent trusts the new key, and it must not be lost.
    const after = await controlRequest(socket, { op: 'admin-key' }).catch(() => undefined)
    if (after?.ok === true && (after.data as AdminKeyData).keys.includes(next.publicKey)) {
      await rename(file, retired)
      await rename(pending, file)
      return { ok: false, error: `${reply.error}; the agent trusts the new key ${newPrint} nonetheless: it is in ${file} (the old one in ${retired})` }
    }
    await unlink(pending)
    return reply
  }
  await rename(file, retired)
  await rename(pending, file)
  const settings = await resignSettings(socket, next)
  const lines = [
    reply.message,
    ...(settings === undefined ? [] : [settings]),
    `new admin key ${newPrint} in ${file}; the old one (${oldPrint}) kept in ${retired}`,
    'next:',
    `  - copy ${file} (mode 0600) to the other hosts that run heliotrope invite or members remove; theirs is retired`,
    '  - join tokens made before this no longer work: invite those hosts again',
    `  - at leisure, set adminKey in every config to ${next.publicKey}`,
    '    (read at start: until then an agent trusts the new key through the key record; once set, records signed by the old key are never looked at, not even to contest the rotation)',
    `  - keep or destroy ${retired}: it signs nothing the cluster accepts now`
  ]
  return { ok: true, lines, publicKey: next.publicKey, fingerprint: newPrint, retiredFile: retired }
}

async function writeSecret (path: string, text: string): Promise<void> {
  let handle
  try {
    handle = await open(path, 'wx', 0o600)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${path} exists: a rotation before did not finish; see heliotrope admin-key show, then move it away`)
    throw err
  }
  try {
    await handle.writeFile(text)
    await handle.sync()
  } finally {
    await handle.close()
  }
}
