/**
 * One preflight check's answer, and how a list of them reads: for a person
 * (a line each, the fix under a failure) or as JSON. A failure means the host
 * cannot do what its config asks; a warning, that it can but something is
 * off (slow, unsafe or unknown).
 */
import { definedOnly } from '../../lib/defined.ts'

export type CheckStatus = 'ok' | 'warn' | 'fail'

export interface CheckResult {
  /** Stable name, e.g. `nftables`; tests and the bootstrap refer to checks by it. */
  id: string
  status: CheckStatus
  /** What was found. */
  detail: string
  /** What to do about a warning or a failure. */
  fix?: string
}

export const ok = (id: string, detail: string): CheckResult => ({ id, status: 'ok', detail })
export const warn = (id: string, detail: string, fix?: string): CheckResult => ({ id, status: 'warn', detail, ...definedOnly({ fix }) })
export const fail = (id: string, detail: string, fix?: string): CheckResult => ({ id, status: 'fail', detail, ...definedOnly({ fix }) })

export function failed (results: readonly CheckResult[]): CheckResult[] {
  return results.filter(r => r.status === 'fail')
}

const LABEL: Record<CheckStatus, string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' }

/** One line per check, the fix indented under it, then a count. */
export function formatChecks (results: readonly CheckResult[]): string {
  const width = Math.max(...results.map(r => r.id.length), 8)
  const lines = results.flatMap(r => [
    `${LABEL[r.status]}  ${r.id.padEnd(width)}  ${r.detail}`,
    ...(r.fix !== undefined && r.status !== 'ok' ? [`${' '.repeat(width + 8)}fix: ${r.fix}`] : [])
  ])
  const count = (s: CheckStatus): number => results.filter(r => r.status === s).length
  lines.push('', `${count('ok')} ok, ${count('warn')} warning(s), ${count('fail')} failed`)
  return lines.join('\n') + '\n'
}
