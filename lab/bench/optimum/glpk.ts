/**
 * Runs glpsol on a CPLEX LP model and reads its plain-text MIP solution
 * (`--write`): status, objective and every column's value, in declaration
 * order (see lp.ts). The best bound is taken from the last progress line of
 * the log, so a run cut short by the time limit still reports its gap.
 */
import { spawn } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { LpModel } from './lp.ts'

export type MipStatus = 'optimal' | 'feasible' | 'infeasible' | 'unknown'

export interface MipResult {
  status: MipStatus
  /** Objective of the solution found (NaN if none), in the model's units. */
  objective: number
  /** Best lower bound glpsol reported (= objective when optimal). */
  bound: number
  values: Float64Array
  seconds: number
  log: string
}

export interface GlpkOptions {
  /** Wall-clock limit given to glpsol (--tmlim), in seconds. */
  timeLimit: number
  /** Extra glpsol switches (e.g. cut families). */
  args?: string[]
}

const STATUS: Record<string, MipStatus> = { o: 'optimal', f: 'feasible', n: 'infeasible', u: 'unknown' }

export async function solveMip (model: LpModel, opts: GlpkOptions): Promise<MipResult> {
  const dir = await mkdtemp(join(tmpdir(), 'heliotrope-ilp-'))
  try {
    const lp = join(dir, 'model.lp'); const sol = join(dir, 'model.sol')
    await writeFile(lp, model.text())
    const started = performance.now()
    const log = await run('glpsol', ['--lp', lp, '--write', sol, '--tmlim', String(Math.max(1, Math.ceil(opts.timeLimit))), ...(opts.args ?? [])])
    const seconds = (performance.now() - started) / 1000
    const text = await readFile(sol, 'utf8').catch(() => '')
    return { ...parseSolution(text, model.size), bound: lastBound(log), seconds, log }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function parseSolution (text: string, nCol: number): Pick<MipResult, 'status' | 'objective' | 'values'> {
  const values = new Float64Array(nCol)
  let status: MipStatus = 'unknown'; let objective = NaN
  for (const line of text.split('\n')) {
    const f = line.trim().split(/\s+/)
    if (f[0] === 's' && f[1] === 'mip') {
      if (Number(f[3]) !== nCol) throw new Error(`glpk: solution has ${f[3]} columns, model ${nCol}`)
      status = STATUS[f[4]!] ?? 'unknown'
      objective = Number(f[5])
    } else if (f[0] === 'j') {
      values[Number(f[1]) - 1] = Number(f[2])
    }
  }
  return { status, objective: status === 'optimal' || status === 'feasible' ? objective : NaN, values }
}

/** The bound from the last "+ N: mip = X >= Y" line (or "tree is empty": solved). */
function lastBound (log: string): number {
  const lines = log.split('\n').filter(l => /^\+\s*\d+: mip =/.test(l))
  const last = lines.at(-1)
  if (last === undefined) return NaN
  if (last.includes('tree is empty')) return Number(/mip =\s*(\S+)/.exec(last)?.[1])
  return Number(/>=\s*(\S+)/.exec(last)?.[1])
}

function run (cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    child.stdout.on('data', (b: Buffer) => { out += b.toString() })
    child.stderr.on('data', (b: Buffer) => { out += b.toString() })
    child.on('error', (e: NodeJS.ErrnoException) => reject(e.code === 'ENOENT' ? new Error('glpsol not found: apt-get install -y glpk-utils') : e))
    child.on('close', code => code === 0 ? resolve(out) : reject(new Error(`glpsol exited with ${code}:\n${out.slice(-2000)}`)))
  })
}
