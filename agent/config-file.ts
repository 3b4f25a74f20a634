/** An agent config file read and checked: what `agent`, `config check` and `plan --config` share. */
import { readFile } from 'node:fs/promises'
import { type AgentConfig, parseConfig } from './config.ts'
import { PRODUCTION_DRIVERS } from './drivers/index.ts'
import type { DriverRegistry } from './drivers/kinds.ts'

/** Throws an Error naming the file when it cannot be read or is not JSON, and parseConfig's ValidationError when a field is bad. */
export async function readConfigFile (path: string, drivers: DriverRegistry = PRODUCTION_DRIVERS): Promise<AgentConfig> {
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) { throw new Error(`cannot read ${path}: ${(err as Error).message}`) }
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new Error(`${path} is not valid JSON: ${(err as Error).message}`) }
  return parseConfig(json, drivers)
}
