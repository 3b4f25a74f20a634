/**
 * The stages of reading an NDJSON stream (the agent's /events), for
 * it-pipe: text chunks -> lines -> parsed values. Each is a plain async
 * generator over its source, so closing the last one closes the source too.
 */

/** Text chunks to lines (without the newline), across chunk boundaries; an unfinished last line is dropped. */
export async function * splitLines (source: AsyncIterable<string>): AsyncGenerator<string> {
  // By hand: readline never ends when its input is destroyed (the client's abort).
  let buf = ''
  for await (const chunk of source) {
    buf += chunk
    let nl: number
    while ((nl = buf.indexOf('\n')) >= 0) {
      yield buf.slice(0, nl)
      buf = buf.slice(nl + 1)
    }
  }
}

/** Lines to JSON values; blank lines are skipped, a line that is not JSON throws. */
export async function * parseJsonLines<T> (source: AsyncIterable<string>): AsyncGenerator<T> {
  for await (const line of source) {
    if (line.trim() !== '') yield JSON.parse(line) as T
  }
}
