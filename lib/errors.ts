/** One precise complaint about an input: where, what was expected, what was found. */
export interface Issue {
  path: string
  expected: string
  found: string
}

/** Thrown for invalid input (snapshot, config, message): lists every issue found. */
export class ValidationError extends Error {
  readonly issues: Issue[]
  constructor (what: string, issues: Issue[]) {
    const lines = issues.map(i => `  ${i.path}: expected ${i.expected}, found ${i.found}`)
    super(`invalid ${what}:\n${lines.join('\n')}`)
    this.name = 'ValidationError'
    this.issues = issues
  }
}

/** Shows a found value briefly, for error messages. */
export function describe (value: unknown): string {
  if (value === undefined) return 'nothing'
  if (value === null) return 'null'
  if (Array.isArray(value)) return `an array of ${value.length}`
  if (typeof value === 'object') return 'an object'
  if (typeof value === 'string') {
    const s = value.length > 40 ? value.slice(0, 37) + '...' : value
    return JSON.stringify(s)
  }
  return String(value)
}
