/**
 * `heliotrope key rotate-peer`: a new peer key (libp2p identity) for this
 * host, the host itself unchanged (docs/operations.md, Rotating a host's
 * peer key). With signed membership the new peer id is admitted like a
 * new host's, by an invitation for this same host (`heliotrope invite
 * --host THIS-HOST` on an admin host): the newer certificate supersedes the
 * old one on every agent, so the old peer id is refused and its
 * connections closed. A static member (in the config's `members`) has no
 * certificate to supersede: `--static` only replaces the key and prints the
 * member entry every host's config needs (a restart of each).
 *
 * A running libp2p node cannot change its peer id: the agent takes the new
 * key at its next start. The invitation is written before the key, so a
 * crash in between leaves the old key, still a member, and an invitation
 * it never presents (a member presents none): run the command again.
 */
import { join } from 'node:path'
import { signedBytes } from '../../lib/membership.ts'
import type { AgentConfig } from '../config.ts'
import { adminVerifier } from '../membership/admin-key.ts'
import { INVITATION_FILE, MembershipStore } from '../membership/store.ts'
import type { JoinToken } from '../membership/token.ts'
import { currentPeerId, replacePeerKey } from '../net/peer-key-rotation.ts'
import { UsageError } from './errors.ts'

/** Said by every rotation: why it takes a restart. */
const RESTART_WHY = 'a libp2p node\'s peer id is fixed while it runs'

/**
 * Rotates the peer key of the host `config` describes, admitted again by
 * `token`'s invitation (or, with `token` undefined, as a static member);
 * returns the lines to print. Every check runs before anything is written:
 * a refused rotation changes nothing.
 */
export async function rotatePeerKey (config: AgentConfig, token: JoinToken | undefined, now: number): Promise<string[]> {
  const isStatic = config.members.some(m => m.host === config.host)
  if (token === undefined) {
    if (!isStatic) throw new UsageError(`${config.host} is not in the config's static members: rotate with --join TOKEN (heliotrope invite --host ${config.host} --dc ${config.dc} on a host with the admin key)`)
    return await rotateStatic(config)
  }
  if (isStatic) throw new UsageError(`${config.host} is a static member (in the config's members list): no invitation can replace its peer id; rotate with --static and edit its entry on every host (docs/operations.md, Rotating a host's peer key)`)
  if (config.adminKey === undefined) throw new UsageError('the config has no adminKey: this cluster does not use signed membership, so no invitation can admit a new peer id')
  const inv = token.invitation.body
  if (inv.cluster !== config.cluster) throw new UsageError(`the token is for cluster ${inv.cluster}, this host is in ${config.cluster}`)
  if (inv.host !== config.host) throw new UsageError(`the token is for host ${inv.host}, this host is ${config.host}: ask for one with heliotrope invite --host ${config.host} --dc ${config.dc}`)
  if (inv.dc !== config.dc) throw new UsageError(`the token puts ${inv.host} in dc ${inv.dc}, its config says ${config.dc}: a rotation keeps the host as it is (invite it with --dc ${config.dc})`)
  if (token.adminKey !== config.adminKey || !adminVerifier(config.adminKey)(signedBytes('invitation', inv), token.invitation.sig)) {
    throw new UsageError('the token\'s invitation is not signed by this cluster\'s admin key (adminKey in the config): the members would refuse it')
  }
  if (now > inv.joinBy) throw new UsageError(`this token could be used until ${new Date(inv.joinBy).toISOString()}: ask for a new one (heliotrope invite --host ${config.host} --dc ${config.dc})`)
  const store = new MembershipStore(config.stateDir)
  const used = (await store.load()).certificates.find(c => c.invitation.body.nonce === inv.nonce)
  if (used !== undefined) throw new UsageError(`this token was used already, by peer ${used.peerId}: a rotation needs a new one (heliotrope invite --host ${config.host} --dc ${config.dc})`)
  await currentPeerId(config.stateDir) // no key, nothing to rotate: said before anything is written
  await store.saveInvitation(token.invitation)
  const key = await replacePeerKey(config.stateDir)
  const valid = inv.notBefore > now ? ` (its invitation is valid from ${new Date(inv.notBefore).toISOString()}; started before, it says so and waits)` : ''
  return [
    `wrote a new peer key ${key.path} (mode 0600): peer id ${key.newPeerId}`,
    `kept the old key as ${key.keptAs} (mode 0600): peer id ${key.oldPeerId}; the agent runs with it until restarted`,
    `wrote the invitation ${join(config.stateDir, INVITATION_FILE)}: the agent presents it under the new peer id at its start`,
    '',
    'next:',
    `  1. restart the agent: systemctl restart heliotrope (${RESTART_WHY}); a member admits the new peer id${valid}, usable until ${new Date(inv.joinBy).toISOString()}`,
    `  2. check it: heliotrope status shows peer id ${key.newPeerId}; heliotrope members on another host lists ${config.host} with it`,
    `the old peer id is refused by every agent from the admission on (superseded), and its connections closed; the VMs on ${config.host} stay where they are.`,
    `delete ${key.keptAs} once the new key works (or keep it to go back: move it to peer.key and invite ${config.host} again).`
  ]
}

/** A static member: the key only; the member lists are every host's config, edited by the operator. */
async function rotateStatic (config: AgentConfig): Promise<string[]> {
  const key = await replacePeerKey(config.stateDir)
  const self = config.members.find(m => m.host === config.host)!
  const entry = { ...self, peerId: key.newPeerId, ...(self.addresses !== undefined ? { addresses: self.addresses.map(a => a.replace(`/p2p/${key.oldPeerId}`, `/p2p/${key.newPeerId}`)) } : {}) }
  return [
    `wrote a new peer key ${key.path} (mode 0600): peer id ${key.newPeerId}`,
    `kept the old key as ${key.keptAs} (mode 0600): peer id ${key.oldPeerId}; the agent runs with it until restarted`,
    '',
    `${config.host} is a static member: every host's config lists its peer id, and the member list is read at start. Its new entry:`,
    `  ${JSON.stringify(entry)}`,
    'next:',
    `  1. replace ${config.host}'s entry in "members" (and any /p2p/${key.oldPeerId} in "bootstrap") in every host's config, this one included`,
    `  2. restart the agents one at a time, this one first: systemctl restart heliotrope (${RESTART_WHY}); a host still on the old list refuses ${config.host} until its restart`,
    `delete ${key.keptAs} once every host runs the new list.`
  ]
}
