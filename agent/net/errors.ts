/**
 * Errors of the network layer. Each has its own class so callers can tell a
 * refused request from a slow peer without parsing messages.
 */

/** A key file exists but cannot be used (unreadable, wrong format, loose permissions). */
export class KeyFileError extends Error {
  readonly path: string
  constructor (path: string, problem: string) {
    super(`key file ${path}: ${problem}`)
    this.name = 'KeyFileError'
    this.path = path
  }
}

/** A request or response body is larger than the protocol allows. */
export class MessageTooLargeError extends Error {
  readonly size: number
  readonly limit: number
  constructor (size: number, limit: number) {
    super(`message of ${size} bytes exceeds the limit of ${limit} bytes`)
    this.name = 'MessageTooLargeError'
    this.size = size
    this.limit = limit
  }
}

/** The remote peer did not answer in time. */
export class RequestTimeoutError extends Error {
  constructor (protocol: string, peer: string, ms: number) {
    super(`no answer on ${protocol} from ${peer} within ${ms} ms`)
    this.name = 'RequestTimeoutError'
  }
}

/** Codes a handler side sends back instead of a body. */
export type RemoteErrorCode = 'too-large' | 'bad-request' | 'handler-failed' | 'timeout'

/** The remote peer answered with an error instead of a body. */
export class RemoteError extends Error {
  readonly code: RemoteErrorCode
  constructor (code: RemoteErrorCode, message: string) {
    super(`remote refused: ${code}: ${message}`)
    this.name = 'RemoteError'
    this.code = code
  }
}

/** A kept stream (channel.ts) ended, or its channels stopped, before the answer came. */
export class ChannelClosedError extends Error {
  constructor (peer: string, why: string) {
    super(`channel to ${peer} closed: ${why}`)
    this.name = 'ChannelClosedError'
  }
}

/** The remote peer sent something that is not a valid response. */
export class ProtocolError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'ProtocolError'
  }
}

/** A topic did not reach the wanted number of peers before the deadline. */
export class TopicPeersTimeoutError extends Error {
  readonly topic: string
  readonly wanted: number
  readonly seen: number
  constructor (topic: string, wanted: number, seen: number, ms: number) {
    super(`topic ${topic} has ${seen} peers, wanted ${wanted}, after ${ms} ms`)
    this.name = 'TopicPeersTimeoutError'
    this.topic = topic
    this.wanted = wanted
    this.seen = seen
  }
}
