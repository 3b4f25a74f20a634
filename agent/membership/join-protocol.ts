/**
 * The names and answers of signed membership's wire (docs/design.md §3.7):
 * the gossip topic records spread on, the join protocol a new host presents
 * its invitation on, and a refusal in words for both sides' logs.
 */
import type { Invitation } from '../../lib/membership.ts'

export const MEMBERSHIP_TOPIC = 'membership'
/** `/heliotrope/<cluster>/join/1` */
export const JOIN_PROTOCOL = 'join'

/** A join answer: admitted (with every record the member holds, so the newcomer knows every member at once) or why not. */
export type JoinAnswer = { admitted: true, bundle: Uint8Array } | { admitted: false, reason: string, detail: string }

/** A refusal in words, with the times that matter. */
export function describeProblem (problem: string, inv: Invitation, now: number): string {
  switch (problem) {
    case 'not-yet-valid': return `the invitation is valid from ${new Date(inv.notBefore).toISOString()} (in ${Math.ceil((inv.notBefore - now) / 1000)} s)`
    case 'expired': return now > inv.joinBy && now < inv.until ? `the invitation could be used until ${new Date(inv.joinBy).toISOString()}: ask for a new token (heliotrope invite)` : `the membership ran out at ${new Date(inv.until).toISOString()}`
    case 'revoked': return `${inv.host} was revoked after this invitation was made: ask for a new token`
    case 'nonce-used': return 'this invitation was used by another peer already (a token admits one host)'
    case 'static-member': return `${inv.host} is in the config's members list: it needs no invitation`
    case 'wrong-cluster': return `the invitation is for cluster ${inv.cluster}`
    case 'bad-signature': return 'the invitation is not signed by this cluster\'s admin key'
    case 'retired-key': return 'the invitation is signed by an admin key the cluster has rotated away: ask for a new token (heliotrope invite with the current admin.key)'
    default: return problem
  }
}
