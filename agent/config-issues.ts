/**
 * zod schemas that complain in the Checker's words (lib/check.ts): each
 * issue is the path of the bad field, the form expected and the value found,
 * so a config checked by a schema reads like every other validation error.
 * zod's own wording is replaced by an error map (`expectedWording`); a
 * schema's own message (a refinement's, a closed object's) is kept.
 */
import { z } from 'zod'
import { join } from '../lib/check.ts'
import { describe, type Issue } from '../lib/errors.ts'

/** An object that refuses unknown fields, naming the ones it has (a typo must not pass silently). */
export function closed<S extends z.ZodRawShape> (shape: S): z.ZodObject<S, z.core.$strict> {
  const fields = Object.keys(shape).join(', ')
  return z.strictObject(shape, { error: iss => iss.code === 'unrecognized_keys' ? `one of the fields ${fields}` : undefined })
}

/** A string with at least one character, as the Checker's strings are. */
export function nonEmpty (): z.ZodString {
  return z.string().min(1)
}

/**
 * A further check on a value that passed the schema's own ones, with what it
 * expects in the Checker's words. It runs only when the value's earlier
 * checks passed, so one bad value is one issue, not a cascade.
 */
export function meets<T> (test: (value: T) => boolean, expected: string): z.core.$ZodCheck<T> {
  return z.refine<T>(test, { error: expected, when: payload => payload.issues.length === 0 })
}

/**
 * An integer check of our own: zod's z.int() marks its issue as aborting the
 * whole parse, which would hide the config's rules across fields (all
 * problems are listed at once). The JSON Schema still says "integer"
 * (`integerInJsonSchema`).
 */
const INTEGER = z.refine<number>(Number.isInteger, { error: 'an integer' })

/** A finite number that is whole; chain bounds after it (.min, .max, .positive). */
export function integer (): z.ZodNumber {
  return z.number().check(INTEGER)
}

/** For z.toJSONSchema's `override`: a number checked by integer() is an "integer". */
export function integerInJsonSchema (ctx: { zodSchema: z.core.$ZodTypes, jsonSchema: z.core.JSONSchema.BaseSchema }): void {
  const checks: readonly unknown[] = ctx.zodSchema._zod.def.checks ?? []
  if (ctx.jsonSchema.type === 'number' && checks.includes(INTEGER)) ctx.jsonSchema.type = 'integer'
}

const TYPE_WORDS: Readonly<Record<string, string>> = {
  string: 'a string',
  number: 'a finite number',
  boolean: 'true or false',
  object: 'an object',
  array: 'an array'
}

/** zod's built-in checks, worded as the Checker words them (pass as the `error` of a parse). */
export const expectedWording: z.core.$ZodErrorMap = iss => {
  switch (iss.code) {
    case 'invalid_type':
      return TYPE_WORDS[iss.expected] ?? `a value of type ${iss.expected}`
    case 'too_small':
      if (iss.origin === 'string') return Number(iss.minimum) === 1 ? 'a non-empty string' : `a string of at least ${iss.minimum} characters`
      if (iss.origin === 'array') return `at least ${iss.minimum} items`
      return iss.inclusive === true ? `a number >= ${iss.minimum}` : `a number above ${iss.minimum}`
    case 'too_big':
      if (iss.origin === 'string') return `a string of at most ${iss.maximum} characters`
      if (iss.origin === 'array') return `at most ${iss.maximum} items`
      return iss.inclusive === true ? `a number <= ${iss.maximum}` : `a number below ${iss.maximum}`
    case 'invalid_value':
      return `one of ${iss.values.map(v => JSON.stringify(v)).join(', ')}`
    case 'invalid_union':
      return 'options' in iss && Array.isArray(iss.options) ? `one of ${iss.options.map(v => JSON.stringify(v)).join(', ')}` : 'one of the accepted forms'
    case 'unrecognized_keys':
      return 'a known field'
    case 'invalid_format':
      return iss.format === 'regex' && 'pattern' in iss ? `a string matching ${String(iss.pattern)}` : `a string in the format ${iss.format}`
    default:
      return 'a valid value'
  }
}

export interface IssueOptions {
  /** Fields of the top-level object: an unknown one within 2 edits of one of these gets "did you mean" instead of the list. */
  topFields?: readonly string[]
}

/**
 * zod's issues (parsed with `reportInput` and `expectedWording`) as the
 * Checker's: one per unknown field, the found value described briefly, for
 * a bad discriminator (a driver's `kind`) the kind found, not the whole
 * section, and only the first issue of a value (zod goes on checking a
 * string's length on an array: one bad value is one issue, not a cascade).
 */
export function toIssues (issues: readonly z.core.$ZodIssue[], opts: IssueOptions = {}): Issue[] {
  const out: Issue[] = []
  const seen = new Set<string>()
  for (const iss of issues) {
    const path = iss.path.reduce<string>((p, k) => join(p, typeof k === 'number' ? k : String(k)), '')
    if (seen.has(path)) continue
    seen.add(path)
    if (iss.code === 'unrecognized_keys') {
      for (const key of iss.keys) {
        const near = path === '' && opts.topFields !== undefined ? nearest(key, opts.topFields) : undefined
        out.push({ path: join(path, key), expected: near === undefined ? iss.message : `a known field (did you mean ${near}?)`, found: describe(key) })
      }
      continue
    }
    const discriminator = iss.code === 'invalid_union' && 'discriminator' in iss && typeof iss.discriminator === 'string' ? iss.discriminator : undefined
    const input: unknown = iss.input
    const found = discriminator !== undefined && typeof input === 'object' && input !== null ? (input as Record<string, unknown>)[discriminator] : input
    out.push({ path, expected: iss.message, found: describe(found) })
  }
  return out
}

/** The candidate closest to `word` if within `max` edits and not all of it rewritten (the first on a tie). */
export function nearest (word: string, candidates: readonly string[], max = 2): string | undefined {
  let best: string | undefined
  let bestDistance = Math.min(max, word.length - 1) + 1
  for (const c of candidates) {
    const d = levenshtein(word, c)
    if (d < bestDistance) { best = c; bestDistance = d }
  }
  return best
}

/** Edits (insert, delete, substitute one character) between two strings. */
export function levenshtein (a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row.push(Math.min(prev[j]! + 1, row[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)))
    }
    prev = row
  }
  return prev[b.length]!
}
