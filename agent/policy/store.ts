/**
 * The operator's decisions that must outlive a restart: which VMs are
 * pinned and whether this host is drained. One small JSON file in the state
 * directory, replaced atomically (agent/durable-file.ts).
 */
import { join } from 'node:path'
import { DurableFile } from '../durable-file.ts'

export const CONTROLS_FILE = 'controls.json'
const VERSION = 1

export interface PinRecord {
  pinned: boolean
  /** When it was decided (the event's sequence number): the newest decision wins. */
  at: number
}

export interface StoredControls {
  draining: boolean
  pins: Record<string, PinRecord>
}

export class ControlStore {
  readonly path: string
  private readonly file: DurableFile
  private data: StoredControls = { draining: false, pins: {} }

  constructor (stateDir: string) {
    this.path = join(stateDir, CONTROLS_FILE)
    this.file = new DurableFile(this.path)
  }

  async load (): Promise<void> {
    const text = await this.file.read()
    if (text === undefined) return
    const json = JSON.parse(text) as { version?: unknown, draining?: unknown, pins?: unknown }
    if (json.version !== VERSION || typeof json.draining !== 'boolean' || typeof json.pins !== 'object' || json.pins === null) {
      throw new Error(`${this.path} is not a heliotrope controls file (version ${VERSION}); move it away to start without pins and drain`)
    }
    this.data = { draining: json.draining, pins: json.pins as Record<string, PinRecord> }
  }

  get draining (): boolean {
    return this.data.draining
  }

  isPinned (vm: string): boolean {
    return this.data.pins[vm]?.pinned === true
  }

  pinned (): string[] {
    return Object.keys(this.data.pins).filter(vm => this.isPinned(vm)).sort()
  }

  /** Applies a pin decision unless a newer one is known; true when it changed something. */
  async setPin (vm: string, pinned: boolean, at: number): Promise<boolean> {
    const prev = this.data.pins[vm]
    if (prev !== undefined && prev.at >= at) return false
    this.data.pins[vm] = { pinned, at }
    await this.save()
    return prev?.pinned !== pinned
  }

  async setDraining (draining: boolean): Promise<void> {
    this.data.draining = draining
    await this.save()
  }

  /** Resolves once the latest decision is written (or its write failed). */
  async idle (): Promise<void> {
    await this.file.idle()
  }

  /** Writes one at a time, so the file always holds the latest state. */
  private async save (): Promise<void> {
    await this.file.write(JSON.stringify({ version: VERSION, ...this.data }, null, 2) + '\n')
  }
}
