/**
 * A small reader for untrusted JSON-shaped input. It walks a value, records
 * every problem with its path, and returns typed fields, so validators read
 * like the format they check. Used for snapshots and messages; the agent's
 * config is a zod schema worded the same way (agent/config-issues.ts).
 */
import { describe, type Issue, ValidationError } from './errors.ts'

export type Json = unknown

export class Checker {
  readonly issues: Issue[] = []
  private readonly limit: number

  constructor (limit = 50) {
    this.limit = limit
  }

  fail (path: string, expected: string, value: unknown): void {
    if (this.issues.length < this.limit) this.issues.push({ path, expected, found: describe(value) })
  }

  get ok (): boolean {
    return this.issues.length === 0
  }

  /**
   * The first issue as one line (`path: expected X, found Y`), for
   * validators that answer with a reason instead of throwing; `whole` names
   * the value itself when the issue is at its root. 'invalid' when none.
   */
  summary (whole = '(value)'): string {
    const i = this.issues[0]
    return i === undefined ? 'invalid' : `${i.path === '' ? whole : i.path}: expected ${i.expected}, found ${i.found}`
  }

  /** Throws a ValidationError listing every issue, if any. */
  done (what: string): void {
    if (!this.ok) throw new ValidationError(what, this.issues)
  }

  object (path: string, value: Json): Record<string, Json> | undefined {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, Json>
    this.fail(path, 'an object', value)
    return undefined
  }

  /** Reports keys not in `known`: a typo in a config must not pass silently. */
  onlyKeys (path: string, obj: Record<string, Json>, known: readonly string[]): void {
    for (const key of Object.keys(obj)) {
      if (!known.includes(key)) this.fail(`${join(path, key)}`, `one of the fields ${known.join(', ')}`, key)
    }
  }

  array (path: string, value: Json): Json[] | undefined {
    if (Array.isArray(value)) return value
    this.fail(path, 'an array', value)
    return undefined
  }

  string (path: string, value: Json, opts: { nonEmpty?: boolean, max?: number } = {}): string | undefined {
    if (typeof value !== 'string') { this.fail(path, 'a string', value); return undefined }
    if ((opts.nonEmpty ?? true) && value.length === 0) { this.fail(path, 'a non-empty string', value); return undefined }
    if (opts.max !== undefined && value.length > opts.max) { this.fail(path, `a string of at most ${opts.max} characters`, value); return undefined }
    return value
  }

  number (path: string, value: Json, opts: { min?: number, max?: number, integer?: boolean, positive?: boolean } = {}): number | undefined {
    if (typeof value !== 'number' || !Number.isFinite(value)) { this.fail(path, 'a finite number', value); return undefined }
    if (opts.integer === true && !Number.isInteger(value)) { this.fail(path, 'an integer', value); return undefined }
    if (opts.positive === true && !(value > 0)) { this.fail(path, 'a number above 0', value); return undefined }
    if (opts.min !== undefined && value < opts.min) { this.fail(path, `a number >= ${opts.min}`, value); return undefined }
    if (opts.max !== undefined && value > opts.max) { this.fail(path, `a number <= ${opts.max}`, value); return undefined }
    return value
  }

  boolean (path: string, value: Json): boolean | undefined {
    if (typeof value === 'boolean') return value
    this.fail(path, 'true or false', value)
    return undefined
  }

  oneOf<T extends string> (path: string, value: Json, options: readonly T[]): T | undefined {
    if (typeof value === 'string' && (options as readonly string[]).includes(value)) return value as T
    this.fail(path, `one of ${options.map(o => JSON.stringify(o)).join(', ')}`, value)
    return undefined
  }

  /** Reads an optional field: absent gives `undefined` without an issue. */
  optional<T> (value: Json, read: (v: Json) => T | undefined): T | undefined {
    return value === undefined ? undefined : read(value)
  }
}

export function join (path: string, key: string | number): string {
  if (typeof key === 'number') return `${path}[${key}]`
  return path === '' ? key : `${path}.${key}`
}
