/**
 * Follows a regular file that another program appends to, like `tail -F`:
 * each call returns the bytes added since the previous one. When the file
 * shrank (truncated in place, e.g. logrotate's copytruncate) or is another
 * file now (rotated: renamed away and created again), it starts over at 0.
 * A missing file reads as empty; the file that appears later is read from 0.
 *
 * Limits of watching size and inode between reads: lines appended to the old
 * file after the last read and before a rename are not read, and a file
 * truncated and then refilled past the old offset between two reads is taken
 * for one that only grew.
 */
import { open } from 'node:fs/promises'
import { CollectorError } from '../types.ts'

/** Most bytes one read takes; the rest waits for the next read, so a huge backlog cannot stall the agent. */
export const DEFAULT_MAX_READ_BYTES = 16 * 2 ** 20
const CHUNK_BYTES = 256 * 2 ** 10

export interface TailChunk {
  data: Buffer
  /** True when the file was truncated or replaced since the previous read: what was buffered of it is stale. */
  restarted: boolean
}

export class FileTail {
  readonly path: string
  readonly maxReadBytes: number
  #offset = 0
  /** dev:ino of the file the offset belongs to; undefined when none was seen yet. */
  #identity: string | undefined

  constructor (path: string, maxReadBytes = DEFAULT_MAX_READ_BYTES) {
    this.path = path
    this.maxReadBytes = maxReadBytes
  }

  get offset (): number {
    return this.#offset
  }

  /** Positions at the end: what the file holds now is history, not the coming window. */
  async skipToEnd (): Promise<void> {
    const handle = await this.#open()
    if (handle === undefined) return
    try {
      const st = await handle.stat()
      this.#identity = `${st.dev}:${st.ino}`
      this.#offset = st.size
    } finally {
      await handle.close()
    }
  }

  async read (): Promise<TailChunk> {
    const handle = await this.#open()
    if (handle === undefined) return { data: Buffer.alloc(0), restarted: false }
    try {
      const st = await handle.stat()
      const identity = `${st.dev}:${st.ino}`
      let restarted = false
      if ((this.#identity !== undefined && identity !== this.#identity) || st.size < this.#offset) {
        this.#offset = 0
        restarted = true
      }
      this.#identity = identity
      const want = Math.min(st.size - this.#offset, this.maxReadBytes)
      const parts: Buffer[] = []
      let got = 0
      while (got < want) {
        const buf = Buffer.allocUnsafe(Math.min(CHUNK_BYTES, want - got))
        const { bytesRead } = await handle.read(buf, 0, buf.length, this.#offset + got)
        if (bytesRead === 0) break // truncated while we read: the next read starts over
        parts.push(buf.subarray(0, bytesRead))
        got += bytesRead
      }
      this.#offset += got
      return { data: Buffer.concat(parts, got), restarted }
    } finally {
      await handle.close()
    }
  }

  async #open (): Promise<Awaited<ReturnType<typeof open>> | undefined> {
    try {
      return await open(this.path, 'r')
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return undefined // between a rotation's rename and create, or not created yet
      throw new CollectorError(`cannot read traffic file ${this.path}: ${(err as Error).message}`)
    }
  }
}
