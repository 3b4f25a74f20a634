/**
 * The newest cluster settings record this agent knows, kept in the state
 * directory (one small JSON file, replaced atomically: agent/durable-file.ts)
 * so a restarted agent runs by them from its first round, before any peer
 * has answered, instead of falling back to its file's mode for a while.
 */
import { join } from 'node:path'
import { Checker } from '../../lib/check.ts'
import { newer, readSettings, type ClusterSettings } from '../../lib/settings.ts'
import { DurableFile } from '../durable-file.ts'

export const SETTINGS_FILE = 'cluster-settings.json'
const VERSION = 1

export class SettingsStore {
  readonly path: string
  private readonly file: DurableFile
  private record: ClusterSettings | undefined

  constructor (stateDir: string) {
    this.path = join(stateDir, SETTINGS_FILE)
    this.file = new DurableFile(this.path)
  }

  /** Reads the file; a damaged one stops the start, as controls.json does: the operator decides. */
  async load (): Promise<void> {
    const text = await this.file.read()
    if (text === undefined) return
    let json: unknown
    try { json = JSON.parse(text) } catch { json = undefined }
    const c = new Checker()
    const o = c.object('', json)
    const record = o !== undefined && o.version === VERSION ? readSettings(c, 'settings', o.settings) : undefined
    if (record === undefined) {
      throw new Error(`${this.path} is not a heliotrope cluster settings file (version ${VERSION}: ${c.summary()}); move it away, and the agent learns the cluster's settings from its peers`)
    }
    this.record = record
  }

  get current (): ClusterSettings | undefined {
    return this.record
  }

  /** Keeps `record` if it wins over the one held (lib/settings.ts); true when it did (and is written). */
  async offer (record: ClusterSettings): Promise<boolean> {
    if (!newer(record, this.record)) return false
    this.record = record
    await this.file.write(JSON.stringify({ version: VERSION, settings: record }, null, 2) + '\n')
    return true
  }

  /** Replaces the record held by the same record signed again (cluster-settings.ts takeResigned): no version order applies. */
  async replace (record: ClusterSettings): Promise<void> {
    this.record = record
    await this.file.write(JSON.stringify({ version: VERSION, settings: record }, null, 2) + '\n')
  }

  async idle (): Promise<void> {
    await this.file.idle()
  }
}
