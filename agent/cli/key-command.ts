/**
 * `heliotrope key`: the cluster key file's keyring, edited for a rotation
 * without downtime (docs/operations.md, Rotating the cluster key). Each
 * step rewrites this host's key file (atomically, mode 0600); the agent
 * takes it at its next reload. `key rotate-peer` replaces this host's peer
 * key instead (rotate-peer-key.ts).
 */
import { readFile } from 'node:fs/promises'
import type { AgentConfig } from '../config.ts'
import { readConfigFile } from '../config-file.ts'
import { DurableFile } from '../durable-file.ts'
import { decodeToken, type JoinToken } from '../membership/token.ts'
import { formatPsk, generatePsk, keyFingerprint, parsePsk, pskKeys, readPsk } from '../net/keys.ts'
import { UsageError } from './errors.ts'
import { DEFAULT_CONFIG_PATH } from './reach.ts'
import { rotatePeerKey } from './rotate-peer-key.ts'
import type { Command, ParsedArgs } from './run.ts'

const STEPS = `A rotation, each step on every host before the next one starts:
  1. heliotrope key add NEW.key    accept the new key (the agent still speaks the old)
  2. heliotrope key use FPR        speak the new key (the old one is still accepted)
  3. heliotrope key drop FPR       drop the old key
with \`systemctl reload heliotrope\` after each; no restart, no round lost.`

export const keyCommand: Command = {
  name: 'key',
  summary: 'rotate the cluster key (list, new, add, use, drop) or this host\'s peer key (rotate-peer)',
  usage: `Usage: heliotrope key list
       heliotrope key new FILE
       heliotrope key add FILE
       heliotrope key use FINGERPRINT
       heliotrope key drop FINGERPRINT
         [--config FILE | --psk-file PATH]
       heliotrope key rotate-peer (--join TOKEN | --static) [--config FILE]

The cluster key file may hold several keys: the agent speaks the first and
accepts every one. Keys are named by fingerprint (the first 8 hex digits of
their sha256), never shown.

  list   the keys in this host's file, the spoken one first
  new    write a new key to FILE (mode 0600, never over an existing file),
         to copy to every host
  add    append the key in FILE (a key file) to this host's keys
  use    put the key FINGERPRINT first: the agent speaks it
  drop   remove the key FINGERPRINT (never the last one)

${STEPS}

  rotate-peer  a new peer key (libp2p identity) for this host, the old one
         kept as STATE/peer.key.replaced.<old peer id>; restart the agent
         after it. --join TOKEN: the token of \`heliotrope invite --host
         THIS-HOST --dc ITS-DC\` (on an admin host): a member admits the
         new peer id and the old one is refused everywhere. --static: a
         static member (in the config's members): the new entry to put in
         every host's config. (docs/operations.md, Rotating a host's peer key)

  --config FILE    the agent's config: its pskFile; for rotate-peer its host, dc,
                   stateDir and adminKey (default ${DEFAULT_CONFIG_PATH})
  --psk-file PATH  the key file itself
`,
  options: { config: { type: 'string', short: 'c' }, 'psk-file': { type: 'string' }, join: { type: 'string' }, static: { type: 'boolean' } },
  async run (args) {
    const [verb, arg, ...rest] = args.positionals
    if (rest.length > 0) throw new UsageError(`unexpected ${JSON.stringify(rest[0])}`)
    if (verb === 'rotate-peer') return await rotatePeer(args, arg)
    if (verb === 'new') {
      if (arg === undefined) throw new UsageError('new FILE: where to write the new key')
      const file = new DurableFile(arg)
      if (await file.read() !== undefined) throw new UsageError(`${arg} exists; a key file is never overwritten`)
      const key = generatePsk()
      await file.write(new TextDecoder().decode(key) + '\n')
      say(`wrote a new cluster key ${keyFingerprint(pskKeys(key)[0]!)} to ${arg} (mode 0600): copy it to every host, then on each: heliotrope key add ${arg}`)
      return 0
    }
    const path = await pskPath(args)
    if (verb === 'list' || verb === undefined) {
      const prints = pskKeys(await readPsk(path)).map(keyFingerprint)
      if (arg !== undefined) throw new UsageError('list takes no argument')
      prints.forEach((p, i) => { say(`${p}  ${i === 0 ? 'spoken and accepted' : 'accepted'}`) })
      if (prints.length > 1) say('a rotation is under way (heliotrope key --help)')
      return 0
    }
    if (arg === undefined) throw new UsageError(`${verb} needs ${verb === 'add' ? 'a key FILE' : 'a FINGERPRINT (heliotrope key list)'}`)
    if (verb !== 'add' && verb !== 'use' && verb !== 'drop') throw new UsageError(`unknown action ${JSON.stringify(verb)}: list, new, add, use, drop or rotate-peer`)
    const done = await keyStep(path, verb, arg)
    say(`${path}: ${done}`)
    say('apply it: systemctl reload heliotrope (or kill -HUP the agent); then the same step on every host before the next step')
    return 0
  }
}

/**
 * One rotation step on the key file at `path`: add the keys of the key file
 * `arg`, or use or drop the key whose fingerprint is `arg`. Rewrites the
 * file (atomically, mode 0600) and says what it did; a step that makes no
 * sense (an unknown key, the last key) is a UsageError and changes nothing.
 */
export async function keyStep (path: string, step: 'add' | 'use' | 'drop', arg: string): Promise<string> {
  const keys = pskKeys(await readPsk(path))
  const prints = keys.map(keyFingerprint)
  let next: Uint8Array[]
  let done: string
  if (step === 'add') {
    const added = pskKeys(parsePsk(new Uint8Array(await readFile(arg)), arg))
    const fresh = added.filter(k => !prints.includes(keyFingerprint(k)))
    if (fresh.length === 0) throw new UsageError(`${arg} holds no key this host lacks (${added.map(keyFingerprint).join(' ')})`)
    next = [...keys, ...fresh]
    done = `added ${fresh.map(keyFingerprint).join(' ')}: accepted, not spoken yet (step 1)`
  } else {
    const i = prints.indexOf(arg)
    if (i < 0) throw new UsageError(`no key ${arg} in ${path} (it holds ${prints.join(' ')})`)
    if (step === 'use') {
      next = [keys[i]!, ...keys.filter((_, j) => j !== i)]
      done = `${arg} is spoken now${i === 0 ? ' (it already was)' : ''}; still accepted: ${prints.filter(p => p !== arg).join(' ') || 'none'} (step 2)`
    } else {
      if (keys.length === 1) throw new UsageError(`${arg} is the only key: the host would have none`)
      next = keys.filter((_, j) => j !== i)
      done = `dropped ${arg}${i === 0 ? `; ${keyFingerprint(next[0]!)} is spoken now` : ''} (step 3)`
    }
  }
  await new DurableFile(path).write(new TextDecoder().decode(formatPsk(next)) + '\n')
  return done
}

/** `key rotate-peer`: rotate-peer-key.ts, on the agent's config. */
async function rotatePeer (args: ParsedArgs, extra: string | undefined): Promise<number> {
  if (extra !== undefined) throw new UsageError(`unexpected ${JSON.stringify(extra)}`)
  const { join: text, static: isStatic } = args.values
  if ((typeof text === 'string') === (isStatic === true)) throw new UsageError('rotate-peer takes --join TOKEN (a member by certificate) or --static (a member of the config\'s list), one of them')
  let token: JoinToken | undefined
  if (typeof text === 'string') {
    try { token = decodeToken(text) } catch (err) { throw new UsageError((err as Error).message) }
  }
  const path = typeof args.values.config === 'string' ? args.values.config : DEFAULT_CONFIG_PATH
  let config: AgentConfig
  try { config = await readConfigFile(path) } catch (err) { throw new UsageError(`${(err as Error).message} (pass --config FILE)`) }
  for (const line of await rotatePeerKey(config, token, Date.now())) say(line)
  return 0
}

function say (line: string): void {
  process.stdout.write(line + '\n')
}

/** --psk-file, or the pskFile of the agent's config. */
async function pskPath (args: ParsedArgs): Promise<string> {
  const given = args.values['psk-file']
  if (typeof given === 'string') return given
  const path = typeof args.values.config === 'string' ? args.values.config : DEFAULT_CONFIG_PATH
  let json: unknown
  try {
    json = JSON.parse(await readFile(path, 'utf8'))
  } catch (err) {
    throw new UsageError(`cannot read the config ${path}: ${(err as Error).message} (pass --config FILE or --psk-file PATH)`)
  }
  const psk = (json as { pskFile?: unknown }).pskFile
  if (typeof psk !== 'string') throw new UsageError(`${path} names no pskFile`)
  return psk
}
