/**
 * This host's sequence-number high-water mark (lib/sequence.ts), kept in
 * the state directory: every number this host ever sent is at or below it,
 * so a restarted agent starts above it, whatever its clock says now.
 */
import { join } from 'node:path'
import { DurableFile } from '../durable-file.ts'

export const SEQ_FILE = 'seq.json'
const VERSION = 1

export class SeqStore {
  readonly path: string
  private readonly file: DurableFile

  constructor (stateDir: string) {
    this.path = join(stateDir, SEQ_FILE)
    this.file = new DurableFile(this.path)
  }

  /**
   * The stored mark; 0 when none was stored yet (the clock alone then).
   * An unreadable file gives 0 too, with `problem` saying what was found:
   * the numbers then follow the clock, as before marks were kept (they
   * still rise unless the clock also stepped back), and the agent says so
   * instead of refusing to start. (The seeded chaos run met such a file
   * after kills and restarts; its cause is not found yet.)
   */
  async load (): Promise<{ reserved: number, problem?: string }> {
    const text = await this.file.read()
    if (text === undefined) return { reserved: 0 }
    let json: { version?: unknown, reserved?: unknown } = {}
    try {
      json = JSON.parse(text) as typeof json
    } catch { /* reported below with the text */ }
    if (json.version !== VERSION || typeof json.reserved !== 'number' || !Number.isSafeInteger(json.reserved) || json.reserved < 0) {
      return { reserved: 0, problem: `${this.path} is not a heliotrope sequence file (version ${VERSION}): ${JSON.stringify(text.slice(0, 200))}` }
    }
    return { reserved: json.reserved }
  }

  /** Stores `reserved`; resolves once it is on disk. */
  async save (reserved: number): Promise<void> {
    await this.file.write(JSON.stringify({ version: VERSION, reserved }) + '\n')
  }
}
