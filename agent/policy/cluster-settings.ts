/**
 * This agent's share of the cluster settings (docs/design.md §3.6): the
 * newest record it knows (kept in the state directory), the values it runs
 * by (its file's, with the record's over them), and the two ways a record
 * travels: an operator's `heliotrope cluster set` here, gossiped at once as
 * a 'settings' event; and again, at a round's start, when a live member's
 * state says it holds an older version (a restarted or new host, or one
 * that missed the event). Controls asks it for the mode and limits.
 *
 * With an admin key (signed membership) a record counts only when the
 * admin key signed it: `heliotrope cluster set` then signs it on a host
 * holding admin.key and hands it here whole (setSigned); gossip without
 * the signature is dropped before it gets here (check).
 */
import { describeRules } from '../../lib/cluster-rules.ts'
import { type ClusterSettings, newer, nextSettings, sameRecord, type SettingKey, SETTING_KEYS, type SettingValue, type SettingValues, signatureProblem, type VerifySettings } from '../../lib/settings.ts'
import type { ControlReply } from '../control-socket/protocol.ts'
import type { ControlsContext } from './controls.ts'
import { changes, configPath, type Effective, effective, type SettingRow, settingRows } from './settings-rules.ts'
import { SettingsStore } from './settings-store.ts'

/** How long `heliotrope cluster set` waits for the live members' states to show the new version. */
export const SETTINGS_CONFIRM_MS = 5_000

/** What the book needs of the controls' own context, and whom to tell when the values in effect change (Controls passes the limits on). */
export type SettingsContext = Pick<ControlsContext, 'host' | 'view' | 'log' | 'now' | 'publishEvent' | 'publishState'> & {
  changed: (e: Effective) => void
  /** The admin key's check, in a cluster that has one: records then count only when it signed them. */
  verify?: VerifySettings
}

const WHY_UNSIGNED = {
  unsigned: 'it carries no admin signature, and this cluster\'s settings are signed with its admin key',
  'bad-signature': 'its signature is not the cluster admin key\'s'
} as const

export class ClusterSettingsBook {
  private readonly ctx: SettingsContext
  private readonly store: SettingsStore
  private file: Effective
  private current: Effective
  /** The round whose start last sent our record again: at most once a round. */
  private resentRound = -1

  constructor (ctx: SettingsContext, stateDir: string, file: Effective) {
    this.ctx = ctx
    this.store = new SettingsStore(stateDir)
    this.file = file
    this.current = file
  }

  /** The stored record, so the agent runs by the cluster's settings from its first round. */
  async load (): Promise<void> {
    await this.store.load()
    const r = this.store.current
    if (r === undefined) return
    this.current = effective(this.file, r)
    this.ctx.log.info('cluster settings loaded', { version: r.version, setBy: r.setBy, values: r.values })
  }

  get effective (): Effective {
    return this.current
  }

  /** The version held, 0 for none: it travels in this host's state. */
  get version (): number {
    return this.store.current?.version ?? 0
  }

  get record (): ClusterSettings | undefined {
    return this.store.current
  }

  /** A reload's new file values: the cluster's still win where it set them. */
  setFile (file: Effective): void {
    this.file = file
    this.current = effective(file, this.store.current)
    this.ctx.changed(this.current)
  }

  rows (): SettingRow[] {
    return settingRows(this.file, this.store.current)
  }

  /**
   * A record from the gossip (or our own): kept, applied at once and said
   * if it wins over ours; our state then carries its version, which is how
   * the others see we have it. True when it won.
   */
  async receive (record: ClusterSettings, from: string): Promise<boolean> {
    if (!newer(record, this.store.current)) {
      await this.takeResigned(record, from)
      return false
    }
    const refused = this.check(record)
    if (refused !== undefined) {
      this.ctx.log.warn('cluster settings refused', { version: record.version, setBy: record.setBy, from, why: WHY_UNSIGNED[refused] })
      return false
    }
    const before = this.rows()
    const previous = this.store.current?.version ?? 0
    const rulesBefore = JSON.stringify(this.current.planner.rules)
    // offer() takes the record at once and writes it after: the values apply now.
    const written = this.store.offer(record)
    this.current = effective(this.file, record)
    this.ctx.changed(this.current)
    const changed = changes(before, this.rows())
    // Another list with the same count by kind: its summary alone would hide the change.
    if (changed.rules === undefined && JSON.stringify(this.current.planner.rules) !== rulesBefore) changed.rules = `replaced, ${describeRules(this.current.planner.rules)}`
    this.ctx.log.info('cluster settings changed', { version: `${previous} -> ${record.version}`, setBy: record.setBy, from, changes: changed })
    await written
    await this.ctx.publishState()
    return true
  }

  /** A round began: a live member whose state shows an older version gets our record again (once a round). */
  roundStarted (round: number): void {
    const record = this.store.current
    if (record === undefined || this.resentRound === round) return
    const behind = this.ctx.view.live(this.ctx.now()).filter(m => m.host !== this.ctx.host && (m.state?.settings ?? 0) < record.version)
    if (behind.length === 0) return
    this.resentRound = round
    this.ctx.log.debug('cluster settings sent again: members hold an older version', { version: record.version, behind: behind.map(m => m.host) })
    this.ctx.publishEvent({ kind: 'settings', settings: record }).catch(err => this.ctx.log.warn('could not send the cluster settings again', { error: (err as Error).message }))
  }

  /**
   * The record we hold, signed again after an admin key rotation
   * (`heliotrope admin-key rotate` re-signs it with the new key): the copy
   * the keys trusted now accept replaces ours, so the record we send to a
   * member behind (a new host trusts only the new key) still counts there.
   * True when it did.
   */
  private async takeResigned (record: ClusterSettings, from: string): Promise<boolean> {
    const held = this.store.current
    if (held === undefined || !sameRecord(held, record) || record.sig === held.sig) return false
    if (this.check(record) !== undefined || this.check(held) === undefined) return false
    await this.store.replace(record)
    this.ctx.log.info('cluster settings signed again by the admin key trusted now', { version: record.version, from })
    return true
  }

  /** Why a record does not count here (gossip checks it before delivery), or undefined when it does. */
  check (record: ClusterSettings): 'unsigned' | 'bad-signature' | undefined {
    return this.ctx.verify === undefined ? undefined : signatureProblem(record, this.ctx.verify)
  }

  /** `heliotrope cluster set/unset` without an admin key: a new record, one version above ours, applied here and gossiped. */
  async set (change: { set: SettingValues, unset: SettingKey[] }): Promise<ControlReply> {
    if (this.ctx.verify !== undefined) return { ok: false, error: 'this cluster\'s settings are signed with its admin key: run heliotrope cluster set on a host that holds admin.key (next to its config), or pass --admin-key FILE' }
    return await this.publishNew(nextSettings(this.store.current, change, this.ctx.host, this.ctx.now()))
  }

  /** `heliotrope cluster set/unset` with the admin key: the record the command made and signed, checked and applied as gossip would be. */
  async setSigned (record: ClusterSettings): Promise<ControlReply> {
    const refused = this.check(record)
    if (refused !== undefined) return { ok: false, error: `the settings record is refused: ${WHY_UNSIGNED[refused]}` }
    const held = this.store.current
    if (held !== undefined && sameRecord(held, record)) {
      if (!(await this.takeResigned(record, this.ctx.host))) return { ok: true, message: `cluster settings version ${record.version}: held already, signed as it is` }
      await this.ctx.publishEvent({ kind: 'settings', settings: record })
      return { ok: true, message: `cluster settings version ${record.version} signed again with the admin key trusted now, and sent` }
    }
    if (!newer(record, held)) return { ok: false, error: `version ${record.version} is not newer than the version ${held?.version ?? 0} held here (set by ${held?.setBy ?? '?'} meanwhile): run the command again` }
    return await this.publishNew(record)
  }

  private async publishNew (next: ClusterSettings): Promise<ControlReply> {
    const before = this.store.current?.values ?? {}
    await this.receive(next, this.ctx.host)
    await this.ctx.publishEvent({ kind: 'settings', settings: next })
    const confirmed = await this.confirmations(next.version)
    const said = SETTING_KEYS.filter(k => JSON.stringify(next.values[k]) !== JSON.stringify(before[k]))
      .map(k => next.values[k] !== undefined ? `${k} ${describeValue(next.values[k])}` : `${k} back to each host's file`)
      .join(', ') || 'the same values again'
    return {
      ok: true,
      message: `cluster settings version ${next.version}: ${said}; ${confirmed.have.length}/${confirmed.live.length} live members hold it${confirmed.missing.length > 0 ? ` (not yet: ${confirmed.missing.join(' ')}; they get it at the next round's start)` : ''}`,
      data: { settings: next, confirmed: confirmed.have, missing: confirmed.missing }
    }
  }

  /** `heliotrope cluster show`: each value in effect here, and where it comes from. */
  show (): ControlReply {
    const r = this.store.current
    const rows = this.rows()
    const width = Math.max(...rows.map(x => x.key.length))
    const lines = [
      r === undefined ? 'cluster settings: none set (every value from this host\'s file)' : `cluster settings version ${r.version}, set by ${r.setBy} at ${new Date(r.at).toISOString()}`,
      ...rows.map(x => `  ${x.key.padEnd(width)}  ${String(x.value).padEnd(8)}  ${x.source === 'cluster' ? `cluster (v${r?.version ?? 0})` : `file (${configPath(x.key)})`}`)
    ]
    const behind = this.ctx.view.live(this.ctx.now()).filter(m => (m.state?.settings ?? 0) < this.version).map(m => m.host)
    if (behind.length > 0) lines.push(`members holding an older version (they get it at the next round's start): ${behind.join(' ')}`)
    return { ok: true, message: lines.join('\n'), data: { settings: r ?? null, effective: rows, behind, host: this.ctx.host } }
  }

  async idle (): Promise<void> {
    await this.store.idle()
  }

  /** Waits (a little) until every live member's state shows `version`. */
  private async confirmations (version: number): Promise<{ live: string[], have: string[], missing: string[] }> {
    const end = this.ctx.now() + SETTINGS_CONFIRM_MS
    for (;;) {
      const live = this.ctx.view.live(this.ctx.now())
      const have = live.filter(m => (m.state?.settings ?? 0) >= version).map(m => m.host)
      const missing = live.filter(m => (m.state?.settings ?? 0) < version).map(m => m.host)
      if (missing.length === 0 || this.ctx.now() > end) return { live: live.map(m => m.host), have, missing }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }
}

/** A value as the operator reads it: the rule list summed up (count by kind), the others as they are. */
function describeValue (v: SettingValue): string {
  return Array.isArray(v) ? describeRules(v) : String(v)
}
