import test from 'ava'
import { generateKeyPairSync } from 'node:crypto'
import { decode, encode } from 'cborg'
import { Checker } from '../../lib/check.ts'
import { MembershipRecords, signedBytes, type Certificate, type Invitation, type Revocation, type Signed } from '../../lib/membership.ts'
import { readBundle } from '../../lib/membership-wire.ts'
import { keyVerifier, type AdminKey } from '../../agent/membership/admin-key.ts'
import { makeInvitation, makeRevocation } from '../../agent/membership/records.ts'

function adminKey (): AdminKey {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519')
  return { privateKey, publicKey: publicKey.export({ type: 'spki', format: 'der' }).toString('base64') }
}

const T0 = 1_700_000_000_000
const ADMIN = adminKey()
const records = (staticHosts: string[] = ['a1']): MembershipRecords => new MembershipRecords({ cluster: 'prod', adminKey: ADMIN.publicKey, verifier: keyVerifier, staticHosts })
const invite = (host: string, o: { now?: number, notBefore?: number, ttlMs?: number, memberForMs?: number, key?: AdminKey, cluster?: string } = {}): Signed<Invitation> =>
  makeInvitation(o.key ?? ADMIN, { cluster: o.cluster ?? 'prod', host, dc: 'B', now: o.now ?? T0, ...(o.notBefore !== undefined ? { notBefore: o.notBefore } : {}), ttlMs: o.ttlMs ?? 60_000, memberForMs: o.memberForMs ?? 3_600_000 })

test('an invitation is admissible only in its window, for this cluster, with the admin signature, once per nonce', t => {
  const r = records()
  const inv = invite('e1', { notBefore: T0 + 10_000 })
  t.is(r.admissible(inv, 'P1', T0), 'not-yet-valid')
  t.is(r.admissible(inv, 'P1', T0 + 10_000), undefined)
  t.is(r.admissible(inv, 'P1', T0 + 10_000 + 60_001), 'expired', 'after joinBy')
  t.is(r.admissible(invite('e1', { key: adminKey() }), 'P1', T0), 'bad-signature')
  t.is(r.admissible(invite('e1', { cluster: 'other' }), 'P1', T0), 'wrong-cluster')
  t.is(r.admissible(invite('a1'), 'P1', T0), 'static-member')
  // A changed field breaks the signature.
  t.is(r.admissible({ ...inv, body: { ...inv.body, dc: 'A' } }, 'P1', T0 + 10_000), 'bad-signature')
  t.is(r.offerCertificate({ invitation: inv, peerId: 'P1' }), 'new')
  t.is(r.admissible(inv, 'P1', T0 + 20_000), undefined, 'the same peer again: a retry')
  t.is(r.admissible(inv, 'P2', T0 + 20_000), 'nonce-used')
})

test('the member list: certificates less revoked, expired and superseded; the same whatever order records arrive in', t => {
  const e1 = invite('e1')
  const e2 = invite('e2', { memberForMs: 5_000 })
  const e1again = invite('e1', { now: T0 + 1_000 })
  const certs: Certificate[] = [{ invitation: e1, peerId: 'P1' }, { invitation: e2, peerId: 'P2' }, { invitation: e1again, peerId: 'P1b' }]
  const rev = makeRevocation(ADMIN, 'prod', 'e3', T0 + 2_000)
  const a = records(); const b = records()
  for (const c of certs) a.offerCertificate(c)
  a.offerRevocation(rev)
  b.offerRevocation(rev)
  for (const c of [...certs].reverse()) b.offerCertificate(c)
  t.deepEqual(a.members(T0), [{ host: 'e1', peerId: 'P1b', dc: 'B' }, { host: 'e2', peerId: 'P2', dc: 'B' }], 'the newer invitation of e1 replaces the older')
  t.deepEqual(b.members(T0), a.members(T0))
  t.is(a.standing('P1', T0), 'superseded')
  t.is(a.standing('P2', T0 + 5_000), 'expired')
  t.deepEqual(a.members(T0 + 5_000).map(m => m.host), ['e1'])
  t.is(a.standing('nobody', T0), 'unknown')

  // A revocation covers what was issued up to its time, not what comes after.
  t.is(a.offerRevocation(makeRevocation(ADMIN, 'prod', 'e1', T0 + 1_000)), 'new')
  t.is(a.standing('P1b', T0), 'revoked')
  t.deepEqual(a.members(T0).map(m => m.host), ['e2'])
  t.is(a.offerRevocation(makeRevocation(ADMIN, 'prod', 'e1', T0 + 500)), 'known', 'an older revocation adds nothing')
  const later = invite('e1', { now: T0 + 3_000 })
  t.is(a.admissible(invite('e1', { now: T0 + 1_000 }), 'P9', T0 + 1_500), 'revoked')
  t.is(a.admissible(later, 'P9', T0 + 3_000), undefined, 'invited again after the revocation')
  t.is(a.offerRevocation({ ...rev, body: { ...rev.body, at: T0 + 9_000 } }), 'bad-signature')
})

test('a nonce used by two peers at two members: every agent keeps the same one (the smaller peer id)', t => {
  const inv = invite('e1')
  const a = records(); const b = records()
  a.offerCertificate({ invitation: inv, peerId: 'Pz' }); a.offerCertificate({ invitation: inv, peerId: 'Pa' })
  b.offerCertificate({ invitation: inv, peerId: 'Pa' }); t.is(b.offerCertificate({ invitation: inv, peerId: 'Pz' }), 'known')
  t.deepEqual(a.members(T0), b.members(T0))
  t.is(a.members(T0)[0]!.peerId, 'Pa')
})

test('signed bytes are domain-separated and depend only on the values; bundles read back from CBOR', t => {
  const body: Revocation = { cluster: 'prod', host: 'e1', at: T0 }
  t.notDeepEqual(signedBytes('revocation', body), signedBytes('invitation', body as unknown as Invitation))
  t.deepEqual(signedBytes('revocation', { at: T0, host: 'e1', cluster: 'prod' }), signedBytes('revocation', body), 'key order does not matter')
  const bundle = { certificates: [{ invitation: invite('e1'), peerId: 'P1' }], revocations: [makeRevocation(ADMIN, 'prod', 'e2', T0)] }
  const c = new Checker()
  const back = readBundle(c, 'b', decode(encode(bundle)))
  t.true(c.ok, c.summary())
  t.deepEqual(back, bundle)
  const bad = new Checker()
  t.is(readBundle(bad, 'b', { certificates: [{ invitation: { body: {}, sig: new Uint8Array(3) }, peerId: 'P' }], revocations: [] }), undefined)
  t.false(bad.ok)
})
