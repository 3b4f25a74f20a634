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

  /** The stored mark; 0 when none was stored yet (the clock alone then). */
  async load (): Promise<number> {
    const text = await this.file.read()
    if (text === undefined) return 0
    const json = JSON.parse(text) as { version?: unknown, reserved?: unknown }
    if (json.version !== VERSION || typeof json.reserved !== 'number' || !Number.isSafeInteger(json.reserved) || json.reserved < 0) {
      throw new Error(`${this.path} is not a heliotrope sequence file (version ${VERSION}); move it away only if this host's clock is right`)
    }
    return json.reserved
  }

  /** Stores `reserved`; resolves once it is on disk. */
  async save (reserved: number): Promise<void> {
    await this.file.write(JSON.stringify({ version: VERSION, reserved }) + '\n')
  }
}
