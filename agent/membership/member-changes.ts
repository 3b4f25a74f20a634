/**
 * What signed membership tells the operator and does when its member list
 * changes (agent/membership/membership.ts apply): admissions said, members
 * gone said with why and cut off, this host's own end said loudly. And
 * the check that an admin key rotation re-signs every record held.
 */
import { peerIdFromString } from '@libp2p/peer-id'
import type { CertifiedMember, MembershipRecords, PeerStanding } from '../../lib/membership.ts'
import type { MembershipBundle } from '../../lib/membership-wire.ts'
import type { RefusedReason } from '../../lib/view.ts'
import type { MembershipContext } from './membership.ts'

export interface ListChange {
  /** The certified members before, by peer id. */
  before: ReadonlyMap<string, CertifiedMember>
  certified: readonly CertifiedMember[]
  refused: ReadonlyMap<string, RefusedReason>
  hash: string
  standing: (peerId: string) => PeerStanding
}

export function announceChanges (ctx: MembershipContext, change: ListChange): void {
  const { before, certified, refused, hash } = change
  for (const m of certified) if (!before.has(m.peerId)) ctx.log.info('member admitted', { member: m.host, dc: m.dc, peer: m.peerId, membersHash: hash })
  for (const [peerId, m] of before) {
    if (certified.some(c => c.peerId === peerId)) continue
    const why = refused.get(peerId) ?? (change.standing(peerId) === 'retired' ? 'signed by a retired admin key' : 'superseded')
    const rekeyed = certified.find(c => c.host === m.host)
    // A rotated peer key (docs/operations.md): the host stays, its old peer id goes.
    if (rekeyed !== undefined) ctx.log.info('member\'s peer key replaced (superseded): closing the old peer id\'s connections', { member: m.host, peer: peerId, newPeer: rekeyed.peerId })
    else ctx.log.warn(`member removed (${why}): closing its connections`, { member: m.host, peer: peerId })
    ctx.node.libp2p.hangUp(peerIdFromString(peerId)).catch(() => {})
  }
  const self = ctx.node.peerId
  if (before.has(self) && !certified.some(c => c.peerId === self)) {
    ctx.log.error(`this host's membership is over (${refused.get(self) ?? 'superseded'}): the others refuse it; it needs a new invitation (heliotrope invite, then heliotrope init --join TOKEN --force here)`, { host: ctx.host })
  }
}

/** The records held that a rotation bundle does not carry re-signed (by host): a rotation must carry them all, or members would drop out. */
export function notResigned (bundle: MembershipBundle, records: MembershipRecords): string[] {
  const nonces = new Set(bundle.certificates.map(c => c.invitation.body.nonce))
  const hosts = new Set(bundle.revocations.map(r => r.body.host))
  return [
    ...records.certificates().filter(c => !nonces.has(c.invitation.body.nonce)).map(c => c.invitation.body.host),
    ...records.revocations().filter(r => !hosts.has(r.body.host)).map(r => `revocation of ${r.body.host}`)
  ]
}
