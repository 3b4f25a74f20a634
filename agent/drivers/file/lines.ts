/**
 * Splits a byte stream into lines, across chunk boundaries, with a bound on
 * a line's length: an exporter gone wrong (or a binary file) must not make
 * the agent buffer without limit. An overlong line is dropped whole, up to
 * its newline, and counted.
 */

/** Longest accepted line in bytes; a flow record is well under 200. */
export const DEFAULT_MAX_LINE_BYTES = 4096

const NEWLINE = 0x0a

export class LineSplitter {
  readonly maxLineBytes: number
  /** Lines dropped for being longer than maxLineBytes. */
  overlong = 0
  #partial: Buffer[] = []
  #partialBytes = 0
  /** Inside an overlong line: discard until its newline. */
  #skipping = false

  constructor (maxLineBytes = DEFAULT_MAX_LINE_BYTES) {
    if (!Number.isInteger(maxLineBytes) || maxLineBytes < 1) throw new RangeError(`maxLineBytes must be a positive integer, not ${maxLineBytes}`)
    this.maxLineBytes = maxLineBytes
  }

  /** Bytes held for a line that has not ended yet. */
  get pendingBytes (): number {
    return this.#partialBytes
  }

  /** Feeds a chunk; returns the complete lines it ends (without the newline, a trailing \r removed). */
  push (chunk: Uint8Array): string[] {
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength)
    const lines: string[] = []
    let start = 0
    for (let nl = buf.indexOf(NEWLINE, start); nl >= 0; nl = buf.indexOf(NEWLINE, start)) {
      this.#take(buf.subarray(start, nl))
      if (this.#skipping) this.#skipping = false
      else lines.push(this.#finish())
      this.#partial = []
      this.#partialBytes = 0
      start = nl + 1
    }
    this.#take(buf.subarray(start))
    return lines
  }

  /** Forgets a partial line (the file it came from was truncated or replaced). */
  reset (): void {
    this.#partial = []
    this.#partialBytes = 0
    this.#skipping = false
  }

  #take (piece: Buffer): void {
    if (this.#skipping || piece.length === 0) return
    if (this.#partialBytes + piece.length > this.maxLineBytes) {
      this.overlong++
      this.#skipping = true
      this.#partial = []
      this.#partialBytes = 0
      return
    }
    // Copy: the caller may reuse its buffer.
    this.#partial.push(Buffer.from(piece))
    this.#partialBytes += piece.length
  }

  #finish (): string {
    const line = Buffer.concat(this.#partial, this.#partialBytes).toString('utf8')
    return line.endsWith('\r') ? line.slice(0, -1) : line
  }
}
