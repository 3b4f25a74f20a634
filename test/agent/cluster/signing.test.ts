import test from 'ava'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { Signer, Verifier } from '../../../agent/cluster/tiered/signing.ts'

const bytes = new TextEncoder().encode('an envelope')

test('a signed item verifies under its author and libp2p agrees with the signature', async t => {
  const key = await generateKeyPair('Ed25519')
  const item = new Signer(key).sign(bytes)
  t.true(new Verifier().verify(item, peerIdFromPrivateKey(key).toString()))
  // The cached node KeyObject must sign exactly what libp2p's own key does (ed25519 is deterministic).
  t.deepEqual(item.s, new Uint8Array(await key.sign(bytes)))
  t.true(await key.publicKey.verify(bytes, item.s))
})

test('an altered item, another author, a truncated signature and a bad peer id are refused', async t => {
  const key = await generateKeyPair('Ed25519')
  const other = await generateKeyPair('Ed25519')
  const verifier = new Verifier()
  const author = peerIdFromPrivateKey(key).toString()
  const item = new Signer(key).sign(bytes)
  const altered = { e: new TextEncoder().encode('an envelopf'), s: item.s }
  t.false(verifier.verify(altered, author))
  t.false(verifier.verify(item, peerIdFromPrivateKey(other).toString()))
  t.false(verifier.verify({ e: item.e, s: item.s.subarray(0, 63) }, author))
  t.false(verifier.verify(item, '12D3KooWbogus'))
  // Still right after the refusals: the cache holds keys, not verdicts.
  t.true(verifier.verify(item, author))
})

test('a non-Ed25519 author never verifies, and a non-Ed25519 key cannot sign', async t => {
  const secp = await generateKeyPair('secp256k1')
  t.false(new Verifier().verify({ e: bytes, s: new Uint8Array(64) }, peerIdFromPrivateKey(secp).toString()))
  t.throws(() => new Signer(secp), { message: /Ed25519/ })
})
