/**
 * Signed membership at run time (docs/design.md §3.7): the records this
 * agent holds (lib/membership.ts), what they make of the member list (the
 * view's, and so the member-list hash its states carry), and the three ways
 * records arrive: a joining host presenting its invitation to us
 * (`/heliotrope/<cluster>/join/1`, served here), a member's gossip on the
 * `membership` topic, and an operator's revocation through the control
 * socket. A member removed (revoked, expired) has its connections closed
 * and its messages dropped with that reason.
 *
 * The gater asks it (allows, onProbation) from the node's first connection,
 * so it exists before the node; the cluster layer attaches the node and the
 * view once they exist.
 */
import { MembershipRecords, type BundleOutcome, type Certificate, type CertifiedMember, type Invitation, type Revocation, type Signed } from '../../lib/membership.ts'
import { type MembershipBundle } from '../../lib/membership-wire.ts'
import type { RefusedReason, ReplicatedView } from '../../lib/view.ts'
import type { AgentConfig } from '../config.ts'
import type { Logger } from '../log.ts'
import { memberListHash } from '../member-list.ts'
import { handle, publish, subscribeTopic, type ClusterNode, type TopicSubscription, type Verdict } from '../net/index.ts'
import { adminKeyFingerprint, keyVerifier } from './admin-key.ts'
import { describeProblem, JOIN_PROTOCOL, MEMBERSHIP_TOPIC, type JoinAnswer } from './join-protocol.ts'
import { Joiner } from './joiner.ts'
import { announceChanges, notResigned } from './member-changes.ts'
import { Probation } from './probation.ts'
import { MembershipStore } from './store.ts'
import { decodeBundle, decodeInvitation, encodeBundle } from './wire.ts'

export interface MembershipContext {
  host: string
  node: ClusterNode
  view: ReplicatedView
  log: Logger
  now: () => number
  periodMs: number
  /** This host was just admitted: say hello again (the hellos before were dropped as a non-member's). */
  admitted: () => void
  /** Our member list changed: our state (which carries its hash) should go out now, so votes agree again within the gossip's latency, not at our next round. */
  listChanged: () => void
}

export class SignedMembership {
  readonly records: MembershipRecords
  private readonly config: AgentConfig
  private readonly store: MembershipStore
  private readonly staticAllow: ReadonlySet<string>
  private readonly invitation: Signed<Invitation> | undefined
  private ctx: MembershipContext | undefined
  private subscription: TopicSubscription | undefined
  private unhandle: (() => Promise<void>) | undefined
  private probation: Probation | undefined
  private joiner: Joiner | undefined
  /** The certified members in effect (what the view holds besides the static ones). */
  private certified: CertifiedMember[] = []
  private hash = ''
  /** The round our records were last sent because a member's hash differed: at most once a round. */
  private resentRound = -1
  /** The members live at the last round start: one that comes (back) live gets our key chain, which no member-list hash tells it it missed. */
  private liveBefore = new Set<string>()
  /** Fires at the next certificate's expiry, so an expired member is cut off then, not at the next round start. */
  private expiryTimer: NodeJS.Timeout | undefined
  private stopped = false
  /** The trusted admin keys last logged (fingerprints), and the forks: a change is logged once. */
  private trustSeen: string
  private forksSeen = '[]'
  /** Records offered signed by a retired admin key (from a peer that has not heard of a rotation yet): not counted, not an attack. */
  staleRecords = 0

  private constructor (config: AgentConfig, store: MembershipStore, bundle: MembershipBundle, invitation: Signed<Invitation> | undefined) {
    this.config = config
    this.store = store
    this.invitation = invitation
    this.staticAllow = new Set([...config.members.map(m => m.peerId), ...config.observers])
    this.records = new MembershipRecords({ cluster: config.cluster, adminKey: config.adminKey!, verifier: keyVerifier, staticHosts: config.members.map(m => m.host) })
    this.records.offerBundle(bundle)
    this.trustSeen = this.trustText()
  }

  /** The admin keys trusted now (fingerprints) and their seq: /status and `heliotrope admin-key show`. */
  adminTrust (): { fingerprints: string[], seq: number, nextSeq: number, keys: string[], forks: number, staleRecords: number } {
    const t = this.records.trust()
    return { keys: t.keys, fingerprints: t.keys.map(adminKeyFingerprint), seq: t.seq, nextSeq: this.records.nextKeySeq(), forks: this.records.forks().length, staleRecords: this.staleRecords }
  }

  private trustText (): string {
    const t = this.adminTrust()
    return `${t.fingerprints.join(' ')} seq ${t.seq}`
  }

  /** Loads the records and this host's invitation from the state directory; needs config.adminKey. */
  static async open (config: AgentConfig): Promise<SignedMembership> {
    if (config.adminKey === undefined) throw new Error('signed membership needs the config\'s adminKey')
    const store = new MembershipStore(config.stateDir)
    return new SignedMembership(config, store, await store.load(), await store.loadInvitation())
  }

  /** The gater's allowlist: the config's members and observers, and the certified members now. */
  allows (peerId: string, now = Date.now()): boolean {
    return this.staticAllow.has(peerId) || this.records.standing(peerId, now) === 'member'
  }

  /** A peer we know nothing against may connect in to present an invitation (and is closed if it does not: probation.ts). */
  onProbation (peerId: string, now = Date.now()): boolean {
    const s = this.records.standing(peerId, now)
    // A certificate signed by a rotated-away key grants nothing, but its host may bring a new invitation.
    return s === 'unknown' || s === 'retired'
  }

  /** Why the gater refuses `peerId`, in words (refusal-log.ts). */
  refusal (peerId: string, now = Date.now()): string {
    const s = this.records.standing(peerId, now)
    if (s === 'retired') return 'its certificate is signed by an admin key rotated away (not re-signed)'
    return s === 'unknown' ? 'not a member' : `its certificate was ${s === 'superseded' ? 'replaced by a newer one of its host' : s}`
  }

  /** Whether this host is a member (by the config, or by a certificate held). */
  get isMember (): boolean {
    const self = this.ctx?.node.peerId
    return self !== undefined && this.allows(self, this.ctx!.now())
  }

  bundle (): MembershipBundle {
    return this.records.bundle()
  }

  /** Attaches the node and the view: the view takes the records' member list at once (before any round). */
  async start (ctx: MembershipContext): Promise<void> {
    this.ctx = ctx
    this.apply()
    const { node } = ctx
    this.subscription = subscribeTopic(node, node.topic(MEMBERSHIP_TOPIC), {
      validate: async (msg) => await this.validate(msg.from, msg.data),
      deliver: () => {}
    })
    this.unhandle = await handle(node, node.protocol(JOIN_PROTOCOL, '1'), async (body, { peer }) => await this.serveJoin(body, peer))
    this.probation = new Probation({ node, log: ctx.log, allowed: (peer) => this.allows(peer, ctx.now()), boundMs: Math.max(10_000, 2 * ctx.periodMs) })
  }

  /** Presents our invitation until a member admits us, if we are not a member yet. */
  afterStart (): void {
    const ctx = this.ctx!
    if (this.isMember) return
    if (this.invitation === undefined) {
      ctx.log.warn('this host is not a member and holds no invitation: it cannot take part (run heliotrope init --join TOKEN with a token from heliotrope invite)')
      return
    }
    this.joiner = new Joiner({
      node: ctx.node,
      log: ctx.log,
      now: ctx.now,
      invitation: this.invitation,
      retryMs: Math.min(5_000, Math.max(1_000, ctx.periodMs / 2)),
      bootstrap: this.config.bootstrap,
      // Never our own host's listed peer id: after a peer key rotation that is our old key, perhaps a leaked one, which must not see the invitation first.
      members: () => ctx.view.members().filter(m => m.host !== ctx.host).map(m => m.peerId),
      admitted: async (bundle) => await this.admittedWith(bundle)
    })
    this.joiner.start()
  }

  async stop (): Promise<void> {
    this.stopped = true
    clearTimeout(this.expiryTimer)
    await this.joiner?.stop()
    this.probation?.stop()
    this.subscription?.unsubscribe()
    await this.unhandle?.()
    await this.store.idle()
  }

  /** At each round start: expiries take effect, and a live member whose member list differs from ours gets our records again. */
  roundStarted (round: number): void {
    const ctx = this.ctx
    if (ctx === undefined) return
    this.apply()
    const now = ctx.now()
    const live = ctx.view.live(now).filter(m => m.host !== ctx.host)
    const back = live.filter(m => !this.liveBefore.has(m.host)).map(m => m.host)
    this.liveBefore = new Set(live.map(m => m.host))
    if (this.resentRound === round || !this.isMember) return
    const differ = live.filter(m => m.state?.members !== undefined && m.state.members !== this.hash)
    // A rotation leaves the member list as it was: a host down through it hears of it when it is live again (docs/design.md §3.7.1).
    const rotated = back.length > 0 && this.records.keyRecords().length > 0
    if (differ.length === 0 && !rotated) return
    this.resentRound = round
    ctx.log.debug('membership records sent again', { listOthers: differ.map(m => m.host), liveAgain: rotated ? back : [] })
    this.gossip().catch(err => ctx.log.warn('could not send the membership records', { error: (err as Error).message }))
  }

  /** `heliotrope members remove`: an admin-signed revocation, kept, applied and gossiped. */
  async revoke (rev: Signed<Revocation>): Promise<{ ok: true, message: string } | { ok: false, error: string }> {
    const r = this.records.offerRevocation(rev)
    if (r === 'bad-signature') return { ok: false, error: 'the revocation is not signed by the cluster\'s admin key (adminKey in the config)' }
    if (r === 'retired-key') return { ok: false, error: 'the revocation is signed by an admin key the cluster has rotated away: use the current admin.key (heliotrope admin-key show)' }
    if (r === 'wrong-cluster') return { ok: false, error: `the revocation is for cluster ${rev.body.cluster}, not ${this.config.cluster}` }
    const gone = this.certified.filter(m => m.host === rev.body.host)
    await this.changed()
    return { ok: true, message: r === 'new' ? `revoked ${rev.body.host}${gone.length > 0 ? ` (peer ${gone.map(g => g.peerId).join(' ')}): its connections are closed and every agent drops its messages` : ' (no certified member of that name here now; any certificate of it issued until now is refused)'}` : `${rev.body.host} was already revoked` }
  }

  /**
   * `heliotrope admin-key`: without a bundle, the keys trusted and the
   * records that count (the CLI re-signs them); with one, a rotation
   * (docs/design.md §3.7): taken only when it names a new key signed by a
   * key trusted now and re-signs every record that counts here, so no
   * member is dropped in between; then kept and gossiped as any records.
   */
  async adminKey (rotate: Uint8Array | undefined): Promise<{ ok: true, message: string, data?: unknown } | { ok: false, error: string }> {
    const trust = this.adminTrust()
    if (rotate === undefined) {
      return { ok: true, message: `admin key(s) trusted: ${trust.fingerprints.join(' ')} (seq ${trust.seq})`, data: { cluster: this.config.cluster, ...trust, bundle: Buffer.from(encodeBundle(this.bundle())).toString('base64') } }
    }
    const bundle = decodeBundle(rotate)
    if (typeof bundle === 'string') return { ok: false, error: `not a rotation bundle: ${bundle}` }
    const record = bundle.keyRecords?.at(-1)
    if (record === undefined) return { ok: false, error: 'the rotation carries no admin key record' }
    if (record.body.seq !== trust.nextSeq) return { ok: false, error: `the key record's seq is ${record.body.seq}, the next here is ${trust.nextSeq}: the keys changed since they were read; run the command again` }
    const missing = notResigned(bundle, this.records)
    if (missing.length > 0) return { ok: false, error: `the rotation does not re-sign every record held here (${missing.join(', ')}): records arrived since they were read; run the command again` }
    const out = this.offer(bundle, 'rotation')
    const now = this.records.trust()
    if (now.seq !== record.body.seq) return { ok: false, error: 'the key record is not signed by an admin key trusted now: the admin key used is not the cluster\'s current one (heliotrope admin-key show)' }
    // The new key is trusted now: kept and gossiped whatever else was wrong, or this agent alone would trust it until its restart.
    await this.changed()
    if (out.refused.length > 0) return { ok: false, error: `the new key was taken, but records were refused: ${out.refused.map(r => `${r.kind} ${r.host ?? ''} ${r.why}`).join(', ')}` }
    const t = this.adminTrust()
    return { ok: true, message: `admin key rotated: trusted now ${t.fingerprints.join(' ')} (seq ${t.seq}); ${bundle.certificates.length} certificate(s) and ${bundle.revocations.length} revocation(s) re-signed and gossiped`, data: t }
  }

  /** Offers records from anywhere, and logs what they changed in the admin keys (a rotation at info, a fork at error). */
  private offer (bundle: MembershipBundle, from: string): BundleOutcome {
    const out = this.records.offerBundle(bundle)
    this.staleRecords += out.stale
    const log = this.ctx?.log
    const trust = this.trustText()
    if (trust !== this.trustSeen) {
      log?.info('admin keys changed: membership records signed by the keys before no longer count', { from, before: this.trustSeen, now: trust })
      this.trustSeen = trust
    }
    const forks = JSON.stringify(this.records.forks())
    if (forks !== this.forksSeen) {
      this.forksSeen = forks
      for (const f of this.records.forks()) log?.error('two admin key records with the same seq, both validly signed: a retired admin key is in use by someone (leaked?); each agent keeps the one it had in its chain (between two it had neither of, the smaller signature). Rotate again from a safe host and set adminKey in every config to the new key (docs/operations.md)', { from, seq: f.seq, kept: f.kept.slice(0, 16), others: f.others.map(o => o.slice(0, 16)) })
    }
    return out
  }

  /** The view takes the member list the records make now; members gone are refused and cut off. */
  private apply (): void {
    const ctx = this.ctx
    if (ctx === undefined) return
    const now = ctx.now()
    const certified = this.records.members(now)
    this.armExpiry(now)
    const all = [...this.config.members.map(m => ({ host: m.host, peerId: m.peerId, dc: m.dc })), ...certified]
    const hash = memberListHash(all)
    if (hash === this.hash) return
    const before = new Map(this.certified.map(m => [m.peerId, m]))
    const refused = new Map<string, RefusedReason>()
    for (const c of this.records.certificates()) {
      const s = this.records.standing(c.peerId, now)
      if (s === 'revoked' || s === 'expired' || s === 'superseded') refused.set(c.peerId, s)
    }
    // A member whose certificate no longer counts (its admin key rotated away, not re-signed) is gone as superseded is: refused at the gater, not named in drops.
    ctx.view.setMembers(all, hash, refused)
    const first = this.hash === ''
    this.certified = certified
    this.hash = hash
    if (first) {
      // The records kept in the state directory: members already, not news.
      if (certified.length > 0) ctx.log.info('members by certificate', { members: certified.map(m => m.host), membersHash: hash })
      return
    }
    ctx.listChanged()
    announceChanges(ctx, { before, certified, refused, hash, standing: (peerId) => this.records.standing(peerId, now) })
    // Our own admission arrived by gossip (a member answered another attempt first).
    if (this.joiner !== undefined && this.isMember) this.joinedNow()
  }

  /** Applies again when the next certified member's certificate runs out (at most a day ahead: timers are 32-bit). */
  private armExpiry (now: number): void {
    clearTimeout(this.expiryTimer)
    if (this.stopped) return
    const next = Math.min(...this.records.certificates().map(c => c.invitation.body.until).filter(u => u > now))
    if (!Number.isFinite(next)) return
    this.expiryTimer = setTimeout(() => { this.apply() }, Math.min(next - now, 86_400_000) + 1)
    this.expiryTimer.unref()
  }

  /** Records changed: apply, keep, tell the others. */
  private async changed (): Promise<void> {
    this.apply()
    await this.store.save(this.bundle())
    await this.gossip()
  }

  private async gossip (): Promise<void> {
    const { node } = this.ctx!
    await publish(node, node.topic(MEMBERSHIP_TOPIC), encodeBundle(this.bundle()))
  }

  /**
   * Only members may spread records (a peer on probation is not one), and
   * every record must carry the admin's signature; a bundle with nothing
   * new is ignored, so it spreads no further.
   */
  private async validate (from: string, data: Uint8Array): Promise<Verdict> {
    const ctx = this.ctx!
    if (ctx.view.hostOfPeer(from) === undefined) return 'reject'
    const bundle = decodeBundle(data)
    if (typeof bundle === 'string') { ctx.log.warn('malformed membership records from a member', { from, problem: bundle }); return 'reject' }
    // What is good in a bundle is kept even when another record in it is refused: the verdict is about the sender.
    const out = this.offer(bundle, from)
    if (out.stale > 0) ctx.log.debug('membership records signed by a retired admin key ignored: the sender has not heard of the rotation yet (it gets ours at the next round start)', { from, records: out.stale })
    if (out.fresh) {
      this.apply()
      await this.store.save(this.bundle())
    }
    if (out.refused.length > 0) {
      for (const r of out.refused) ctx.log.warn(`a membership ${r.kind} refused`, { from, host: r.host, why: r.why })
      return 'reject'
    }
    return out.fresh ? 'accept' : 'ignore'
  }

  /** A peer presents its invitation: admitted (and the certificate gossiped), or told why not, loudly on both sides. */
  private async serveJoin (body: unknown, peer: string): Promise<JoinAnswer> {
    const ctx = this.ctx!
    const o = typeof body === 'object' && body !== null ? (body as { invitation?: unknown }) : {}
    const inv = decodeInvitation(o.invitation)
    if (typeof inv === 'string') {
      ctx.log.warn('refused a joining peer: malformed invitation', { peer, problem: inv })
      return { admitted: false, reason: 'malformed', detail: inv }
    }
    const now = ctx.now()
    const problem = this.records.admissible(inv, peer, now)
    if (problem !== undefined) {
      const detail = describeProblem(problem, inv.body, now)
      ctx.log.warn('refused a joining peer', { peer, host: inv.body.host, why: problem, detail })
      return { admitted: false, reason: problem, detail }
    }
    const cert: Certificate = { invitation: inv, peerId: peer }
    if (this.records.offerCertificate(cert) === 'new') await this.changed()
    return { admitted: true, bundle: encodeBundle(this.bundle()) }
  }

  /** The join answer's records: ours now too. */
  private async admittedWith (bundle: MembershipBundle): Promise<void> {
    this.offer(bundle, 'join answer')
    this.apply()
    await this.store.save(this.bundle())
    if (this.isMember) this.joinedNow()
  }

  private joinedNow (): void {
    const joiner = this.joiner
    if (joiner === undefined) return
    this.joiner = undefined
    joiner.stop().catch(() => {})
    this.ctx!.log.info('this host was admitted to the cluster', { members: this.ctx!.view.members().length, membersHash: this.hash })
    this.ctx!.admitted()
  }
}
