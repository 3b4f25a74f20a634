/**
 * bench:optimum instances with proven optima (optimum-cases.json), for the
 * tests that play the planners on them.
 */
import { readFileSync } from 'node:fs'
import type { Snapshot } from '../../lib/model.ts'

export interface OptimumCase { name: string, optimum: number, snapshot: Snapshot }

export const cases: OptimumCase[] = (JSON.parse(readFileSync(new URL('./optimum-cases.json', import.meta.url), 'utf8')) as { cases: OptimumCase[] }).cases
