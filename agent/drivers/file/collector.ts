/**
 * The `file` traffic collector: flow records as JSON lines
 * (`{"src": IPv6, "dst": IPv6, "bytes": N}`, see parse.ts) that an external
 * pipeline appends to a file, writes to a FIFO, or pipes to standard input
 * (path "-"), for hosts where sFlow or IPFIX exporters already measure
 * traffic. Each read returns the records since the previous read, summed
 * per (src, dst) pair.
 *
 * Bad input never stops the agent: malformed lines are counted and skipped,
 * lines are bounded in length, the pairs held between reads are bounded in
 * number (bytes of further pairs are reported as uncounted), and a file that
 * is truncated or rotated is read again from its start.
 */
import { stat } from 'node:fs/promises'
import { CollectorError, type CollectorSample, type CounterDelta, type TrafficCollector } from '../types.ts'
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from './lines.ts'
import { parseFlowLine } from './parse.ts'
import { readFifo, readStdin, type LiveSource } from './stream.ts'
import { DEFAULT_MAX_READ_BYTES, FileTail } from './tail.ts'

/** The path that means standard input. */
export const STDIN_PATH = '-'
/** Most distinct (src, dst) pairs held between two reads. */
export const DEFAULT_MAX_PAIRS = 100_000

export interface FileCollectorInit {
  /** A regular file, a FIFO, or "-" for standard input. */
  path: string
  maxLineBytes?: number
  maxPairs?: number
  /** Most bytes of a regular file taken per read. */
  maxReadBytes?: number
}

/** Nothing from the host: flow records name their own addresses. */
export type FileComponents = Record<never, never>

export interface FileCollectorStats {
  /** Records accepted. */
  records: number
  /** Lines that were not a record (bad JSON, bad address, bad byte count), overlong ones included. */
  malformed: number
  /** Of those, lines longer than the bound. */
  overlong: number
  /** Times a regular file was found truncated or replaced and read from 0. */
  restarts: number
  /** Why the last malformed line was refused (for logs and the operator). */
  lastMalformed?: string
}

export class FileCollector implements TrafficCollector {
  readonly name = 'file'
  readonly path: string
  readonly stats: FileCollectorStats = { records: 0, malformed: 0, overlong: 0, restarts: 0 }
  private readonly maxPairs: number
  private readonly splitter: LineSplitter
  private readonly maxReadBytes: number
  private tail: FileTail | undefined
  private live: LiveSource | undefined
  private liveError: Error | undefined
  private pending = new Map<string, CounterDelta>()
  private uncounted = 0
  private lastReadMs: number | undefined
  private started = false

  constructor (_components: FileComponents, init: FileCollectorInit) {
    if (init.path === '') throw new CollectorError('the file collector needs a path (a file, a FIFO, or "-" for standard input)')
    this.path = init.path
    this.maxPairs = init.maxPairs ?? DEFAULT_MAX_PAIRS
    this.maxReadBytes = init.maxReadBytes ?? DEFAULT_MAX_READ_BYTES
    this.splitter = new LineSplitter(init.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES)
  }

  async start (): Promise<void> {
    if (this.started) return
    const onData = (chunk: Buffer): void => { this.take(chunk) }
    const onError = (err: Error): void => { this.liveError = err }
    if (this.path === STDIN_PATH) {
      this.live = readStdin(onData, onError)
    } else {
      const kind = await stat(this.path).then(s => s.isFIFO() ? 'fifo' : s.isFile() ? 'file' : 'other', (err: NodeJS.ErrnoException) => {
        // Not there yet: the exporter creates it later; it is read from 0 then.
        if (err.code === 'ENOENT') return 'file'
        throw new CollectorError(`cannot stat traffic file ${this.path}: ${err.message}`)
      })
      if (kind === 'other') throw new CollectorError(`traffic file ${this.path} is neither a regular file nor a FIFO`)
      if (kind === 'fifo') this.live = readFifo(this.path, onData, onError)
      else {
        this.tail = new FileTail(this.path, this.maxReadBytes)
        await this.tail.skipToEnd()
      }
    }
    this.started = true
  }

  async read (nowMs: number): Promise<CollectorSample> {
    if (!this.started) throw new CollectorError('file collector not started')
    if (this.liveError !== undefined) throw new CollectorError(`reading ${this.path === STDIN_PATH ? 'standard input' : this.path} failed: ${this.liveError.message}`)
    if (this.tail !== undefined) {
      const { data, restarted } = await this.tail.read()
      if (restarted) {
        this.stats.restarts++
        this.splitter.reset()
      }
      this.take(data)
    }
    const deltas = [...this.pending.values()]
    const uncountedBytes = this.uncounted
    this.pending = new Map()
    this.uncounted = 0
    const first = this.lastReadMs === undefined
    const windowMs = first ? 0 : nowMs - this.lastReadMs!
    this.lastReadMs = nowMs
    // The first read has no window to put its bytes in (as every collector).
    if (first) return { deltas: [], windowMs: 0, uncountedBytes: 0 }
    return { deltas, windowMs, uncountedBytes }
  }

  async stop (): Promise<void> {
    this.live?.stop()
    this.live = undefined
    this.tail = undefined
    this.started = false
  }

  private take (chunk: Buffer): void {
    if (chunk.length === 0) return
    const before = this.splitter.overlong
    const lines = this.splitter.push(chunk)
    const overlong = this.splitter.overlong - before
    if (overlong > 0) {
      this.stats.overlong += overlong
      this.stats.malformed += overlong
      this.stats.lastMalformed = `line longer than ${this.splitter.maxLineBytes} bytes`
    }
    for (const line of lines) {
      const r = parseFlowLine(line)
      if (r === undefined) continue
      if (typeof r === 'string') {
        this.stats.malformed++
        this.stats.lastMalformed = r
        continue
      }
      this.stats.records++
      const key = `${r.src} ${r.dst}`
      const d = this.pending.get(key)
      if (d !== undefined) d.bytes += r.bytes
      else if (this.pending.size < this.maxPairs) this.pending.set(key, { ...r })
      else this.uncounted += r.bytes
    }
  }
}
