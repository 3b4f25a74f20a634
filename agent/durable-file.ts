/**
 * A small file in the state directory that must survive a crash whole:
 * each write goes to a temporary file, is fsync'ed, renamed over the old
 * one, and the directory fsync'ed so the rename itself is on disk (Serf's
 * snapshot and etcd's WAL do the same). Once write() resolves, a crash or
 * power loss leaves the new contents, never a mix or the old ones.
 */
import { mkdir, open, readFile, rename } from 'node:fs/promises'
import { dirname } from 'node:path'

let tmpSerial = 0

/** Mode of the state directory when a write has to create it (as the peer key's). */
const STATE_DIR_MODE = 0o700

export class DurableFile {
  readonly path: string
  private writing: Promise<void> = Promise.resolve()

  constructor (path: string) {
    this.path = path
  }

  /** The file's text, or undefined when there is none yet. */
  async read (): Promise<string | undefined> {
    try {
      return await readFile(this.path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw err
    }
  }

  /** Resolves once no write is in flight (a stopping owner waits, so nothing is written after it stopped). */
  async idle (): Promise<void> {
    await this.writing
  }

  /** Replaces the contents; writes go one at a time, so the file ends with the last one given. */
  async write (text: string): Promise<void> {
    const next = this.writing.then(async () => {
      const dir = dirname(this.path)
      await mkdir(dir, { recursive: true, mode: STATE_DIR_MODE })
      // A name of its own per write: two writers of one path (a halted agent's
      // last write and its restart's first, in one lab process) must not
      // share a temporary file, or the rename can install a mix of both.
      const tmp = `${this.path}.${process.pid}.${++tmpSerial}.tmp`
      const file = await open(tmp, 'w', 0o600)
      try {
        await file.writeFile(text)
        await file.sync()
      } finally {
        await file.close()
      }
      await rename(tmp, this.path)
      const d = await open(dir, 'r')
      try {
        await d.sync()
      } finally {
        await d.close()
      }
    })
    this.writing = next.catch(() => undefined)
    await next
  }
}
