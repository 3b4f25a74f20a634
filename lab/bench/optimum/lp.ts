/**
 * A minimal writer for the CPLEX LP format as glpsol reads it. Variables are
 * numbered in the order they are declared and the objective lists every one
 * of them in that order (zero coefficients included), so glpsol's column j is
 * our variable j - 1 when its solution file is read back.
 */

export type Sense = '<=' | '>=' | '='
/** A linear term: coefficient and variable index. */
export type Term = readonly [number, number]

type Kind = 'continuous' | 'integer' | 'binary'
interface Var { name: string, kind: Kind, lo: number, hi: number }

export class LpModel {
  private readonly vars: Var[] = []
  private readonly objective: number[] = []
  private readonly rows: string[] = []
  /** If set, the objective must not exceed it (a known solution's value prunes the search). */
  cutoff: number | undefined

  /** Declares a variable; returns its index. */
  variable (name: string, opts: { kind?: Kind, lo?: number, hi?: number } = {}): number {
    this.vars.push({ name, kind: opts.kind ?? 'continuous', lo: opts.lo ?? 0, hi: opts.hi ?? Infinity })
    this.objective.push(0)
    return this.vars.length - 1
  }

  get size (): number {
    return this.vars.length
  }

  name (j: number): string {
    return this.vars[j]!.name
  }

  /** Adds `coef` to variable j's objective coefficient. */
  cost (j: number, coef: number): void {
    this.objective[j]! += coef
  }

  constraint (name: string, terms: readonly Term[], sense: Sense, rhs: number): void {
    this.rows.push(` ${name}: ${this.expr(terms)} ${sense} ${num(rhs)}`)
  }

  /** The model in CPLEX LP format. */
  text (): string {
    const objective = this.expr(this.objective.map((c, j) => [c, j] as const), true)
    const out = ['Minimize', ` obj: ${objective}`, 'Subject To']
    if (this.cutoff !== undefined) out.push(` cutoff: ${objective} <= ${num(this.cutoff)}`)
    out.push(...this.rows, 'Bounds')
    for (const v of this.vars) {
      if (v.kind === 'binary') continue
      if (v.lo === v.hi) out.push(` ${v.name} = ${num(v.lo)}`)
      else out.push(` ${num(v.lo)} <= ${v.name}${v.hi < Infinity ? ` <= ${num(v.hi)}` : ''}`)
    }
    for (const [kind, head] of [['integer', 'General'], ['binary', 'Binary']] as const) {
      const names = this.vars.filter(v => v.kind === kind).map(v => v.name)
      if (names.length > 0) out.push(head)
      for (let i = 0; i < names.length; i += 10) out.push(' ' + names.slice(i, i + 10).join(' '))
    }
    out.push('End', '')
    return out.join('\n')
  }

  /** Terms joined, a few per line (glpsol reads long expressions across lines). */
  private expr (terms: ReadonlyArray<readonly [number, number]>, keepZero = false): string {
    const parts: string[] = []
    for (const [c, j] of terms) {
      if (c === 0 && !keepZero) continue
      const sign = c < 0 || Object.is(c, -0) ? '-' : '+'
      parts.push(`${sign} ${num(Math.abs(c))} ${this.vars[j]!.name}`)
    }
    if (parts.length === 0) throw new Error('lp: empty expression')
    const lines: string[] = []
    for (let i = 0; i < parts.length; i += 8) lines.push(parts.slice(i, i + 8).join(' '))
    return lines.join('\n  ')
  }
}

/** Shortest text that reads back as the same double. */
function num (x: number): string {
  if (!Number.isFinite(x)) throw new Error(`lp: not a finite number: ${x}`)
  return String(x)
}
