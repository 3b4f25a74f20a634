/**
 * A client for the QEMU Machine Protocol over a unix socket: one JSON object
 * per line, a greeting, capability negotiation, then commands answered in
 * order. Commands may be issued concurrently (they are tagged with ids and
 * QEMU answers them one by one); events are handed to a listener or dropped.
 */
import { createConnection } from 'node:net'
import type { Socket } from 'node:net'
import { HypervisorError } from '../types.ts'

/** Time to connect and finish the greeting + qmp_capabilities exchange, in ms. */
export const DEFAULT_QMP_CONNECT_TIMEOUT_MS = 3_000
/** Time for one command's answer, in ms. */
export const DEFAULT_QMP_COMMAND_TIMEOUT_MS = 10_000
/** Longest line accepted from QEMU (guards against a runaway peer). */
export const QMP_MAX_LINE_BYTES = 16 * 1024 * 1024

/** QEMU answered a command with an error (its class is e.g. GenericError, CommandNotFound). */
export class QmpError extends HypervisorError {
  readonly errorClass: string
  readonly command: string
  constructor (command: string, errorClass: string, desc: string) {
    super(`QMP ${command}: ${errorClass}: ${desc}`)
    this.name = 'QmpError'
    this.command = command
    this.errorClass = errorClass
  }
}

export interface QmpEvent {
  event: string
  data?: unknown
  timestamp?: { seconds: number, microseconds: number }
}

export interface QmpConnectOptions {
  timeoutMs?: number
  onEvent?: (event: QmpEvent) => void
}

interface Pending {
  command: string
  resolve: (value: unknown) => void
  reject: (err: Error) => void
  timer: NodeJS.Timeout
}

export class QmpClient {
  readonly path: string
  #socket: Socket
  #buffer = ''
  #nextId = 1
  #pending = new Map<string, Pending>()
  #closed: Error | undefined
  #onEvent: ((event: QmpEvent) => void) | undefined
  #greeting: ((msg: Record<string, unknown>) => void) | undefined

  private constructor (path: string, socket: Socket, onEvent?: (event: QmpEvent) => void) {
    this.path = path
    this.#socket = socket
    this.#onEvent = onEvent
  }

  /** Connects to `path`, reads the greeting and leaves negotiation mode. */
  static async connect (path: string, options: QmpConnectOptions = {}): Promise<QmpClient> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_QMP_CONNECT_TIMEOUT_MS
    const socket = createConnection({ path })
    const client = new QmpClient(path, socket, options.onEvent)
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => { client.#receive(chunk) })
    socket.on('error', (err) => { client.#fail(new HypervisorError(`QMP ${path}: ${err.message}`)) })
    socket.on('close', () => { client.#fail(new HypervisorError(`QMP ${path}: connection closed`)) })
    let timer: NodeJS.Timeout | undefined
    try {
      await Promise.race([
        (async () => {
          const greeting = await new Promise<Record<string, unknown>>((resolve, reject) => {
            client.#greeting = resolve
            socket.once('close', () => { reject(client.#closed ?? new HypervisorError(`QMP ${path}: closed before the greeting`)) })
          })
          if (!('QMP' in greeting)) throw new HypervisorError(`QMP ${path}: no greeting, got ${JSON.stringify(greeting).slice(0, 200)}`)
          await client.execute('qmp_capabilities', undefined, { timeoutMs })
        })(),
        new Promise<never>((_resolve, reject) => {
          // A QMP monitor serves one client at a time: a second one connects
          // at the kernel level but never gets a greeting, so this bound matters.
          timer = setTimeout(() => { reject(new HypervisorError(`QMP ${path}: no greeting within ${timeoutMs} ms (monitor busy or QEMU hung)`)) }, timeoutMs)
        })
      ])
    } catch (err) {
      client.close()
      throw err
    } finally {
      clearTimeout(timer)
    }
    return client
  }

  get closed (): boolean {
    return this.#closed !== undefined
  }

  /** Runs `command`; resolves with its `return` value, rejects with a QmpError or HypervisorError. */
  async execute<T = unknown> (command: string, args?: Record<string, unknown>, options: { timeoutMs?: number } = {}): Promise<T> {
    if (this.#closed !== undefined) throw this.#closed
    const id = `ht-${this.#nextId++}`
    const timeoutMs = options.timeoutMs ?? DEFAULT_QMP_COMMAND_TIMEOUT_MS
    const message = JSON.stringify(args === undefined ? { execute: command, id } : { execute: command, arguments: args, id })
    return await new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(id)
        reject(new HypervisorError(`QMP ${command}: no answer within ${timeoutMs} ms from ${this.path}`))
      }, timeoutMs)
      this.#pending.set(id, { command, resolve: resolve as (value: unknown) => void, reject, timer })
      this.#socket.write(message + '\n')
    })
  }

  close (): void {
    this.#fail(new HypervisorError(`QMP ${this.path}: client closed`))
    this.#socket.destroy()
  }

  #receive (chunk: string): void {
    this.#buffer += chunk
    if (this.#buffer.length > QMP_MAX_LINE_BYTES) {
      this.#fail(new HypervisorError(`QMP ${this.path}: line longer than ${QMP_MAX_LINE_BYTES} bytes`))
      this.#socket.destroy()
      return
    }
    let nl: number
    while ((nl = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, nl).trim()
      this.#buffer = this.#buffer.slice(nl + 1)
      if (line !== '') this.#dispatch(line)
    }
  }

  #dispatch (line: string): void {
    let msg: Record<string, unknown>
    try {
      msg = JSON.parse(line) as Record<string, unknown>
    } catch {
      this.#fail(new HypervisorError(`QMP ${this.path}: not JSON: ${line.slice(0, 200)}`))
      this.#socket.destroy()
      return
    }
    if (this.#greeting !== undefined && 'QMP' in msg) {
      const greet = this.#greeting
      this.#greeting = undefined
      greet(msg)
      return
    }
    if (typeof msg.event === 'string') {
      this.#onEvent?.(msg as unknown as QmpEvent)
      return
    }
    const id = typeof msg.id === 'string' ? msg.id : undefined
    const pending = id === undefined ? undefined : this.#pending.get(id)
    // An answer to a command that already timed out: nobody waits for it.
    if (id === undefined || pending === undefined) return
    this.#pending.delete(id)
    clearTimeout(pending.timer)
    if ('error' in msg) {
      const error = (msg.error ?? {}) as { class?: unknown, desc?: unknown }
      pending.reject(new QmpError(pending.command, String(error.class ?? 'Error'), String(error.desc ?? 'unknown error')))
    } else {
      pending.resolve(msg.return)
    }
  }

  #fail (err: Error): void {
    if (this.#closed !== undefined) return
    this.#closed = err
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer)
      p.reject(err)
    }
    this.#pending.clear()
  }
}
