/** The --api option every command that talks to a running agent shares. */
import { ApiClient, API_ADDRESS_ENV, DEFAULT_API_ADDRESS, parseApiAddress } from '../api/client.ts'
import { ApiAddressError } from '../api/errors.ts'
import { UsageError } from './errors.ts'
import type { ParsedArgs } from './run.ts'

export const API_OPTIONS = { api: { type: 'string' as const, short: 'a' } }

export const API_USAGE = `  --api ADDR   the agent's API: [::1]:7878 (default; or $${API_ADDRESS_ENV}),
               127.0.0.1:PORT, or a bare port on [::1]`

export function apiClient (args: ParsedArgs): ApiClient {
  const raw = args.values.api ?? process.env[API_ADDRESS_ENV] ?? DEFAULT_API_ADDRESS
  if (typeof raw !== 'string') throw new UsageError('--api needs an address')
  try {
    return new ApiClient(parseApiAddress(raw))
  } catch (err) {
    if (err instanceof ApiAddressError) throw new UsageError(err.message)
    throw err
  }
}

/** Splits a comma list option, checking each item against `allowed`. */
export function listOption (args: ParsedArgs, name: string, allowed: readonly string[]): string[] | undefined {
  const raw = args.values[name]
  if (raw === undefined) return undefined
  const items = String(raw).split(',').map(s => s.trim()).filter(s => s !== '')
  const bad = items.filter(i => !allowed.includes(i))
  if (bad.length > 0) throw new UsageError(`--${name}: unknown ${bad.join(', ')}; expected some of ${allowed.join(', ')}`)
  return items
}
