import test from 'ava'
import { generateKeyPairSync } from 'node:crypto'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { encode } from 'cborg'
import { keyRecordBytes, MAX_ASIDE_RECORDS, type AdminKeyRecord } from '../../lib/admin-keys.ts'
import { MembershipRecords, type Certificate, type Signed } from '../../lib/membership.ts'
import { type MembershipBundle } from '../../lib/membership-wire.ts'
import { keyVerifier, signAdmin, type AdminKey } from '../../agent/membership/admin-key.ts'
import { makeInvitation, makeRevocation, rotationBundle } from '../../agent/membership/records.ts'
import { MembershipStore } from '../../agent/membership/store.ts'

function adminKey (): AdminKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { privateKey, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') }
}

const T0 = 1_700_000_000_000
const K = [adminKey(), adminKey(), adminKey(), adminKey()]
const records = (root: AdminKey = K[0]!): MembershipRecords => new MembershipRecords({ cluster: 'prod', adminKey: root.publicKey, verifier: keyVerifier, staticHosts: ['a1'] })
const keyRecord = (signer: AdminKey, next: AdminKey, seq: number): Signed<AdminKeyRecord> => {
  const body = { cluster: 'prod', keys: [next.publicKey], seq }
  return { body, sig: signAdmin(signer, keyRecordBytes(body)) }
}
const invite = (key: AdminKey, host: string, now = T0): ReturnType<typeof makeInvitation> => makeInvitation(key, { cluster: 'prod', host, dc: 'B', now, ttlMs: 60_000, memberForMs: 3_600_000 })

/** A cluster's records under K0: two members and a revocation. */
function held (): MembershipBundle {
  const certificates: Certificate[] = [{ invitation: invite(K[0]!, 'e1'), peerId: 'P1' }, { invitation: invite(K[0]!, 'e2'), peerId: 'P2' }, { invitation: invite(K[0]!, 'e3'), peerId: 'P3' }]
  return { certificates, revocations: [makeRevocation(K[0]!, 'prod', 'e3', T0 + 1)] }
}

/** Three rotations K0 -> K1 -> K2 -> K3, each re-signing what was held. */
function rotatedThrice (): MembershipBundle {
  let b = held()
  for (let i = 0; i < 3; i++) b = rotationBundle(K[i]!, K[i + 1]!, 'prod', i + 1, b)
  return b
}

function permutations<T> (xs: T[]): T[][] {
  if (xs.length <= 1) return [xs]
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map(p => [x, ...p]))
}

test('the key chain: key records in any order, and a bundle\'s records in any order, give the same trusted keys and member list', t => {
  const b = rotatedThrice()
  const chain = b.keyRecords!
  t.is(chain.length, 3)
  for (const order of permutations(chain)) {
    const r = records()
    for (const k of order) r.offerKeyRecord(k)
    t.deepEqual(r.trust(), { keys: [K[3]!.publicKey], seq: 3 })
    t.deepEqual(r.keyRecords().map(k => k.body.seq), [1, 2, 3])
  }
  // A bundle listing the re-signed records before the key records (offerBundle takes key records first).
  const mixed = { keyRecords: [chain[2]!, chain[0]!, chain[1]!], certificates: [...b.certificates].reverse(), revocations: b.revocations }
  const x = records(); const y = records()
  t.true(x.offerBundle(b).fresh)
  t.true(y.offerBundle(mixed).fresh)
  t.deepEqual(x.members(T0), [{ host: 'e1', peerId: 'P1', dc: 'B' }, { host: 'e2', peerId: 'P2', dc: 'B' }])
  t.deepEqual(y.members(T0), x.members(T0))
  t.deepEqual(y.trust(), x.trust())
  t.is(x.standing('P3', T0), 'revoked', 'the re-signed revocation counts')
  // What a member gossips on carries the chain, and reads back the same elsewhere.
  const z = records()
  z.offerBundle(x.bundle())
  t.deepEqual(z.members(T0), x.members(T0))
  t.deepEqual(z.trust(), x.trust())
})

test('a rotation re-signs the held records: every member stays, each record now verifies under the new key only; without the re-signed copies the members would drop', t => {
  const r = records()
  r.offerBundle(held())
  const before = r.members(T0)
  t.is(before.length, 2)
  const rotation = rotationBundle(K[0]!, K[1]!, 'prod', 1, r.bundle())
  t.deepEqual(rotation.certificates.map(c => c.invitation.body), r.certificates().map(c => c.invitation.body), 'the same bodies')
  const out = r.offerBundle(rotation)
  t.deepEqual(out.refused, [])
  t.deepEqual(r.trust(), { keys: [K[1]!.publicKey], seq: 1 })
  t.deepEqual(r.members(T0), before, 'no member dropped')
  t.is(r.standing('P3', T0), 'revoked')
  t.true(r.certificates().every(c => rotation.certificates.some(x => Buffer.from(x.invitation.sig).equals(Buffer.from(c.invitation.sig)))), 'the counted certificates are the re-signed ones')
  // The key record alone (its re-signed records lost): the old signatures no longer count.
  const bare = records()
  bare.offerBundle(held())
  bare.offerKeyRecord(rotation.keyRecords.at(-1)!)
  t.deepEqual(bare.members(T0), [])
  t.is(bare.standing('P1', T0), 'retired')
  // ... until the re-signed copies arrive: a certificate that verifies replaces one that no longer does.
  t.is(bare.offerCertificate(rotation.certificates[0]!), 'new')
  t.is(bare.members(T0).length, 1)
})

test('records signed by a retired key are refused: invitations, certificates, revocations and key records', t => {
  const r = records()
  r.offerBundle(held())
  r.offerBundle(rotationBundle(K[0]!, K[1]!, 'prod', 1, r.bundle()))
  t.is(r.admissible(invite(K[0]!, 'e4'), 'P4', T0), 'retired-key')
  t.is(r.offerCertificate({ invitation: invite(K[0]!, 'e4'), peerId: 'P4' }), 'retired-key')
  t.is(r.offerRevocation(makeRevocation(K[0]!, 'prod', 'e1', T0 + 5)), 'retired-key')
  t.is(r.members(T0).length, 2, 'the old key revoked nobody')
  t.is(r.admissible(invite(K[1]!, 'e4'), 'P4', T0), undefined, 'the new key invites')
  t.is(r.admissible(invite(adminKey(), 'e4'), 'P4', T0), 'bad-signature', 'a key never trusted is no retired key')
  // The old key signing the next seq: no trusted key signed it, it is held aside and changes nothing.
  t.is(r.offerKeyRecord(keyRecord(K[0]!, K[2]!, 2)), 'aside')
  t.deepEqual(r.trust(), { keys: [K[1]!.publicKey], seq: 1 })
  // A bundle with records of a peer that missed the rotation: counted as stale, nothing refused.
  const out = r.offerBundle(held())
  t.is(out.stale, 4)
  t.deepEqual(out.refused, [])
  t.false(out.fresh)
})

test('a fork (two records of one seq, both signed by a key trusted then): an agent keeps the record it had in its chain; agents that had neither choose the same, whatever the order; both report it', t => {
  const hexOf = (r: Signed<AdminKeyRecord>): string => Buffer.from(r.sig).toString('hex')
  // Two records of seq 1 from K[0]: the rogue is the one whose signature
  // sorts first, the one a signature order alone would pick. (Drawing rogue
  // keys until one sorts below a fixed honest record failed 1 run in 65: the
  // honest signature sometimes sorts near the bottom.)
  const [x, y] = [adminKey(), adminKey()]
  const [rx, ry] = [keyRecord(K[0]!, x, 1), keyRecord(K[0]!, y, 1)]
  const [honestKey, honest, rogueKey, rogue] = hexOf(rx) > hexOf(ry) ? [x, rx, y, ry] : [y, ry, x, rx]
  const next = keyRecord(honestKey, K[3]!, 2)
  t.true(hexOf(rogue) < hexOf(honest))

  // Every agent heard the rotation (and the next one) before the leaked key was used: all keep the honest chain.
  const heard = records()
  heard.offerKeyRecord(honest)
  heard.offerKeyRecord(next)
  t.is(heard.offerKeyRecord(rogue), 'aside')
  t.deepEqual(heard.trust(), { keys: [K[3]!.publicKey], seq: 2 })
  t.deepEqual(heard.forks(), [{ seq: 1, kept: hexOf(honest), others: [hexOf(rogue)] }])
  // Restarted from its state file (its chain), it keeps it too.
  const restarted = records()
  restarted.offerBundle({ keyRecords: heard.keyRecords(), certificates: [], revocations: [] })
  restarted.offerKeyRecord(rogue)
  t.deepEqual(restarted.trust(), heard.trust())

  // Agents that held neither, given both together in any order: the same choice (the smaller signature), reported.
  const outcomes = permutations([honest, rogue, next]).map(order => {
    const r = records()
    r.offerBundle({ keyRecords: order, certificates: [], revocations: [] })
    return { trust: r.trust(), chain: r.keyRecords().map(hexOf), forks: r.forks() }
  })
  for (const o of outcomes) t.deepEqual(o, outcomes[0])
  t.deepEqual(outcomes[0]!.trust, { keys: [rogueKey.publicKey], seq: 1 }, 'the leaked key wins where nobody had the rotation: what updating the configs\' adminKey prevents')
  t.is(outcomes[0]!.forks.length, 1)
})

test('a host whose config names the new key (joined by a token made after the rotation) trusts it, and follows the records it signs', t => {
  const r = records(K[1]!)
  t.is(r.offerKeyRecord(keyRecord(K[0]!, K[1]!, 1)), 'aside', 'signed by a key this host never trusted')
  t.deepEqual(r.trust(), { keys: [K[1]!.publicKey], seq: 0 })
  t.is(r.nextKeySeq(), 2, 'a rotation from here comes after the record that named its key, as the others\' chains do')
  // The others (config K0) follow such a rotation: seq 2, signed by K1.
  const other = records()
  other.offerKeyRecord(keyRecord(K[0]!, K[1]!, 1))
  other.offerKeyRecord(keyRecord(K[1]!, K[2]!, 2))
  t.deepEqual(other.trust(), { keys: [K[2]!.publicKey], seq: 2 })
  t.is(r.offerCertificate({ invitation: invite(K[1]!, 'e1'), peerId: 'P1' }), 'new')
  t.is(r.offerKeyRecord(keyRecord(K[1]!, K[2]!, 2)), 'new')
  t.deepEqual(r.trust(), { keys: [K[2]!.publicKey], seq: 2 })
  t.is(r.offerKeyRecord({ body: { cluster: 'other', keys: [K[3]!.publicKey], seq: 3 }, sig: new Uint8Array(64) }), 'wrong-cluster')
  t.is(r.offerKeyRecord({ body: { cluster: 'prod', keys: ['bm90IGEga2V5'], seq: 3 }, sig: new Uint8Array(64) }), 'bad-key')
})

test('state files: an old one (no key records) loads; one with the chain comes back with the rotated trust', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'heliotrope-admin-keys-'))
  t.teardown(async () => { await rm(dir, { recursive: true, force: true }) })
  const old = held()
  // The file as the release before key records wrote it.
  await writeFile(join(dir, 'membership.json'), JSON.stringify({ version: 1, bundle: Buffer.from(encode({ certificates: old.certificates, revocations: old.revocations })).toString('base64') }) + '\n')
  const store = new MembershipStore(dir)
  const loaded = await store.load()
  t.is(loaded.keyRecords, undefined)
  const r = records()
  r.offerBundle(loaded)
  t.is(r.members(T0).length, 2)
  r.offerBundle(rotationBundle(K[0]!, K[1]!, 'prod', 1, r.bundle()))
  await store.save(r.bundle())
  t.regex(await readFile(join(dir, 'membership.json'), 'utf8'), /"version":1/)
  const again = records()
  again.offerBundle(await new MembershipStore(dir).load())
  t.deepEqual(again.trust(), { keys: [K[1]!.publicKey], seq: 1 })
  t.deepEqual(again.members(T0), r.members(T0))
})

test('key records held aside are bounded (the oldest go first); the chain is not, and still forms', t => {
  const r = records()
  const stranger = adminKey()
  // Records no trusted key signed: a member could send any number of them.
  for (let seq = 1; seq <= MAX_ASIDE_RECORDS + 10; seq++) t.is(r.offerKeyRecord(keyRecord(stranger, K[1]!, seq)), 'aside')
  t.is(r.offerKeyRecord(keyRecord(K[0]!, K[1]!, 1)), 'new')
  t.is(r.offerKeyRecord(keyRecord(K[1]!, K[2]!, 2)), 'new')
  t.deepEqual(r.trust(), { keys: [K[2]!.publicKey], seq: 2 })
  // The earliest strangers were dropped: offered again, they are taken as new ones aside.
  t.is(r.offerKeyRecord(keyRecord(stranger, K[1]!, 1)), 'aside')
  t.is(r.keyRecords().length, 2)
})
