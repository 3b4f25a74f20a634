/** `heliotrope key`: the cluster key file's keyring, step by step, and the mistakes it refuses. */
import test from 'ava'
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generatePsk, keyFingerprint, parsePsk, pskKeys } from '../../../agent/net/keys.ts'
import { heliotrope } from '../cli-run.ts'

const prints = async (path: string): Promise<string[]> => pskKeys(parsePsk(await readFile(path))).map(keyFingerprint)

test('key new, add, use, drop: the file goes from the old key to the new one through the rotation steps, mode 0600 throughout; mistakes are usage errors', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htkey-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const psk = join(dir, 'psk')
  await writeFile(psk, generatePsk(), { mode: 0o600 })
  const config = join(dir, 'config.json')
  await writeFile(config, JSON.stringify({ pskFile: psk }))
  const [old] = await prints(psk)

  const made = await heliotrope(['key', 'new', join(dir, 'new.key')])
  t.is(made.code, 0, made.err)
  const [fresh] = await prints(join(dir, 'new.key'))
  t.regex(made.out, new RegExp(`new cluster key ${fresh!}`))
  t.is((await stat(join(dir, 'new.key'))).mode & 0o777, 0o600)
  t.is((await heliotrope(['key', 'new', join(dir, 'new.key')])).code, 2, 'never over an existing file')

  const add = await heliotrope(['key', 'add', join(dir, 'new.key'), '--config', config])
  t.is(add.code, 0, add.err)
  t.deepEqual(await prints(psk), [old, fresh], 'step 1: accepted, the old one still spoken')
  t.regex(add.out, /systemctl reload heliotrope/)
  const list = await heliotrope(['key', 'list', '--psk-file', psk])
  t.is(list.out, `${old!}  spoken and accepted\n${fresh!}  accepted\na rotation is under way (heliotrope key --help)\n`)
  t.is((await heliotrope(['key', 'add', join(dir, 'new.key'), '--psk-file', psk])).code, 2, 'a key already there')

  t.is((await heliotrope(['key', 'use', fresh!, '--psk-file', psk])).code, 0)
  t.deepEqual(await prints(psk), [fresh, old], 'step 2: the new one spoken')
  t.is((await heliotrope(['key', 'use', 'deadbeef', '--psk-file', psk])).code, 2, 'an unknown fingerprint')

  t.is((await heliotrope(['key', 'drop', old!, '--psk-file', psk])).code, 0)
  t.deepEqual(await prints(psk), [fresh], 'step 3: only the new one')
  const last = await heliotrope(['key', 'drop', fresh!, '--psk-file', psk])
  t.is(last.code, 2)
  t.regex(last.err, /the only key/)
  t.is((await stat(psk)).mode & 0o777, 0o600)
  t.is((await heliotrope(['key', 'rotate', '--psk-file', psk])).code, 2)
})
