/**
 * The file collector's live sources: standard input, or a named pipe
 * (FIFO) an exporter writes to. Unlike a file these cannot be re-read, so
 * data is taken as it arrives and handed on at once.
 */
import { constants, openSync } from 'node:fs'
import { Socket } from 'node:net'
import type { Readable } from 'node:stream'
import { CollectorError } from '../types.ts'

export interface LiveSource {
  stop: () => void
}

/** Reads standard input. stop() detaches without closing it (it is the process's, not ours). */
export function readStdin (onData: (chunk: Buffer) => void, onError: (err: Error) => void): LiveSource {
  return attach(process.stdin, onData, onError, false)
}

/**
 * Reads a FIFO. Opened read-write and non-blocking: the open does not wait
 * for a writer, and because we hold a write end ourselves, writers that come
 * and go never make the pipe report end-of-file.
 */
export function readFifo (path: string, onData: (chunk: Buffer) => void, onError: (err: Error) => void): LiveSource {
  let fd: number
  try {
    fd = openSync(path, constants.O_RDWR | constants.O_NONBLOCK)
  } catch (err) {
    throw new CollectorError(`cannot open the FIFO ${path}: ${(err as Error).message}`)
  }
  // A net.Socket on the fd: libuv's pipe handle reads a FIFO without a thread per read.
  return attach(new Socket({ fd, readable: true, writable: false }), onData, onError, true)
}

function attach (stream: Readable, onData: (chunk: Buffer) => void, onError: (err: Error) => void, owned: boolean): LiveSource {
  const data = (chunk: Buffer | string): void => { onData(typeof chunk === 'string' ? Buffer.from(chunk) : chunk) }
  stream.on('data', data)
  stream.on('error', onError)
  return {
    stop () {
      stream.off('data', data)
      stream.off('error', onError)
      if (owned) stream.destroy()
      else stream.pause()
    }
  }
}
