/**
 * The operator's decisions that must outlive a restart: which VMs are
 * pinned and whether this host is drained. One small JSON file in the state
 * directory, replaced atomically (write, fsync, rename).
 */
import { open, readFile, rename } from 'node:fs/promises'
import { join } from 'node:path'

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
  private data: StoredControls = { draining: false, pins: {} }
  private writing: Promise<void> = Promise.resolve()

  constructor (stateDir: string) {
    this.path = join(stateDir, CONTROLS_FILE)
  }

  async load (): Promise<void> {
    let text: string
    try {
      text = await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return
      throw err
    }
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

  /** Writes one at a time, so the file always holds the latest state. */
  private async save (): Promise<void> {
    const next = this.writing.then(async () => {
      const tmp = `${this.path}.${process.pid}.tmp`
      const file = await open(tmp, 'w', 0o600)
      try {
        await file.writeFile(JSON.stringify({ version: VERSION, ...this.data }, null, 2) + '\n')
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(tmp, this.path)
    })
    this.writing = next.catch(() => undefined)
    await next
  }
}
