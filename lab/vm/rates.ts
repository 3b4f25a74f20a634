/**
 * The rates file the lab's traffic processes follow: who sends how much to
 * whom, in bit/s at the IPv6 layer (what the collectors count). The lab
 * rewrites it (atomically) when a scenario's phase changes; every process
 * picks its own flows. Plain types and node: imports only, because the
 * traffic process runs on Node's type stripping without a loader.
 */
import { rename, writeFile } from 'node:fs/promises'

export const RATES_VERSION = 1

export interface RateFlow {
  /** A VM id or an external id. */
  src: string
  dst: string
  bps: number
}

export interface RatesFile {
  version: number
  /** Every endpoint's address. */
  endpoints: Record<string, string>
  flows: RateFlow[]
}

export interface TrafficStats {
  id: string
  atMs: number
  /** IPv6 bytes handed to the kernel per destination address since the process started. */
  sent: Record<string, { packets: number, bytes: number }>
  errors: number
}

export async function writeRates (path: string, rates: RatesFile): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`
  await writeFile(tmp, JSON.stringify(rates))
  await rename(tmp, path)
}
