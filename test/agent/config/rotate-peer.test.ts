/** `heliotrope key rotate-peer` as the operator runs it: what it writes, and the mistakes it refuses before writing anything. */
import test from 'ava'
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { MembershipStore } from '../../../agent/membership/store.ts'
import { decodeToken } from '../../../agent/membership/token.ts'
import { currentPeerId } from '../../../agent/net/peer-key-rotation.ts'
import { heliotrope } from '../cli-run.ts'

test('key rotate-peer: a bad token, a token for another host, no key, a static member with a token, a used token are refused and change nothing; a good token rotates; --static rotates a static member', async t => {
  const root = await mkdtemp(join(tmpdir(), 'htrotate-'))
  t.teardown(async () => rm(root, { recursive: true, force: true }))
  const etc1 = join(root, 'etc1')
  const config1 = join(etc1, 'config.json')
  const first = await heliotrope(['init', '--cluster', 'prod', '--dc', 'ams', '--host', 'h1', '--address', 'fd00::1', '--dir', etc1, '--state', join(root, 'state1')])
  t.is(first.code, 0, first.err)
  const invite = async (host: string): Promise<string> => {
    const r = await heliotrope(['invite', '--host', host, '--dc', 'ams', '--config', config1])
    t.is(r.code, 0, r.err)
    return r.out.trim()
  }
  const etc2 = join(root, 'etc2')
  const state2 = join(root, 'state2')
  const config2 = join(etc2, 'config.json')
  t.is((await heliotrope(['init', '--join', await invite('h2'), '--address', 'fd00::2', '--dir', etc2, '--state', state2])).code, 0)
  const peer2 = await currentPeerId(state2)
  const invitation2 = await readFile(join(state2, 'invitation.json'), 'utf8')
  const rotate = async (...args: string[]): Promise<{ code: number | null, out: string, err: string }> => await heliotrope(['key', 'rotate-peer', ...args])
  const unchanged = async (what: string): Promise<void> => {
    t.is(await currentPeerId(state2), peer2, `${what}: the key unchanged`)
    t.is(await readFile(join(state2, 'invitation.json'), 'utf8'), invitation2, `${what}: the invitation unchanged`)
  }

  const refusals: Array<[string, string[], RegExp]> = [
    ['a damaged token', ['--join', 'hlt1.AAAA', '--config', config2], /damaged|not a heliotrope join token/],
    ['not a token', ['--join', 'hello', '--config', config2], /a join token starts with hlt1\./],
    ['a token for another host', ['--join', await invite('h3'), '--config', config2], /the token is for host h3, this host is h2/],
    ['neither --join nor --static', ['--config', config2], /--join TOKEN .* or --static/],
    ['--static on a member by certificate', ['--static', '--config', config2], /h2 is not in the config's static members: rotate with --join TOKEN/],
    ['no config', ['--static', '--config', join(root, 'none.json')], /cannot read .*none\.json/]
  ]
  for (const [what, args, message] of refusals) {
    const r = await rotate(...args)
    t.is(r.code, 2, `${what}: ${r.out}${r.err}`)
    t.regex(r.err, message, what)
    await unchanged(what)
  }

  // No key: a config whose state directory holds none.
  const empty = join(root, 'empty-state')
  const config4 = join(root, 'config4.json')
  await writeFile(config4, JSON.stringify({ ...JSON.parse(await readFile(config2, 'utf8')) as object, stateDir: empty }))
  const nokey = await rotate('--join', await invite('h2'), '--config', config4)
  t.is(nokey.code, 1, nokey.err)
  t.regex(nokey.err, /key file .*empty-state\/peer\.key: there is no peer key to rotate; a new host gets its first key from heliotrope init/)
  t.deepEqual(await readdir(empty).catch(() => []), [], 'nothing written where there is no key')

  // A static member cannot be re-invited: no token names it (invite refuses), and another's token says so.
  const staticWithToken = await rotate('--join', await invite('h2'), '--config', config1)
  t.is(staticWithToken.code, 2)
  t.regex(staticWithToken.err, /h1 is a static member .* --static/)

  // A good token: a new key, the old one kept, the new invitation in place.
  const token = await invite('h2')
  const ok = await rotate('--join', token, '--config', config2)
  t.is(ok.code, 0, ok.err)
  const peer2b = await currentPeerId(state2)
  t.not(peer2b, peer2)
  t.regex(ok.out, new RegExp(`peer id ${peer2b}`))
  t.regex(ok.out, /systemctl restart heliotrope \(a libp2p node's peer id is fixed while it runs\)/)
  const kept = join(state2, `peer.key.replaced.${peer2}`)
  t.is((await stat(kept)).mode & 0o777, 0o600)
  t.deepEqual((await new MembershipStore(state2).loadInvitation())?.body, decodeToken(token).invitation.body)

  // The same token once a member admitted it (its certificate in this host's records): refused.
  await new MembershipStore(state2).save({ certificates: [{ invitation: decodeToken(token).invitation, peerId: peer2b }], revocations: [] })
  const used = await rotate('--join', token, '--config', config2)
  t.is(used.code, 2)
  t.regex(used.err, new RegExp(`used already, by peer ${peer2b}`))
  t.is(await currentPeerId(state2), peer2b)

  // A static member: --static, and the entry to put in every config.
  const peer1 = await currentPeerId(join(root, 'state1'))
  const st = await rotate('--static', '--config', config1)
  t.is(st.code, 0, st.err)
  const peer1b = await currentPeerId(join(root, 'state1'))
  t.not(peer1b, peer1)
  t.regex(st.out, new RegExp(`"host":"h1","peerId":"${peer1b}".*/p2p/${peer1b}`))
  t.regex(st.out, /in every host's config/)
  t.is((await stat(join(root, 'state1', `peer.key.replaced.${peer1}`))).mode & 0o777, 0o600)
})
