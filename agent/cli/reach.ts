/**
 * How every operator command finds the agent it talks to: one set of options
 * for all of them.
 *
 *   --api ADDR     the agent's API (or $HELIOTROPE_API)
 *   --config FILE  the agent's config: its API address and control socket
 *   --socket PATH  the control socket itself
 *
 * With none, the local agent: /etc/heliotrope/config.json when it exists,
 * else the default API address. Reading commands (status, members, monitor,
 * console) ask the API; changes (pin, drain, approve, cluster set) go through
 * the control socket, because the API is read-only and unauthenticated while
 * the socket is guarded by file permissions. Given only an API address, a
 * change asks that agent for its socket (GET /status), which works for an
 * agent on this machine: the sandbox prints one address for everything.
 */
import { readFile } from 'node:fs/promises'
import { ApiClient, API_ADDRESS_ENV, DEFAULT_API_ADDRESS, formatApiAddress, parseApiAddress, type ApiAddress } from '../api/client.ts'
import { DEFAULT_API_LISTEN, DEFAULT_API_PORT, isLoopback } from '../api/config.ts'
import { ApiAddressError } from '../api/errors.ts'
import type { StatusResponse } from '../api/types.ts'
import { DEFAULT_STATE_DIR } from '../config.ts'
import { controlSocketPath } from '../policy/config.ts'
import { UsageError } from './errors.ts'
import type { Command, ParsedArgs } from './run.ts'

export const DEFAULT_CONFIG_PATH = '/etc/heliotrope/config.json'

export const REACH_OPTIONS: Command['options'] = {
  api: { type: 'string', short: 'a' },
  config: { type: 'string', short: 'c' },
  socket: { type: 'string' }
}

export const REACH_USAGE = `Which agent (the same options for every command; default: the local one,
from ${DEFAULT_CONFIG_PATH} when it exists, else ${DEFAULT_API_ADDRESS}):
  --api ADDR      its API: [::1]:7878, 127.0.0.1:PORT or a bare port on [::1]
                  (or $${API_ADDRESS_ENV})
  --config FILE   its config, for its API address and control socket
  --socket PATH   its control socket (for changes: pin, drain, approve, cluster)`

/** Where a config file says its agent can be reached. */
interface ConfigReach {
  /** Absent when the API is disabled or on port 0 (picked at start, so unknown here). */
  api?: ApiAddress
  socket: string
}

/**
 * Reads only the fields that locate the agent, not the whole config: a
 * command should not fail on a field it does not use (or a driver kind only
 * the lab knows, as in the sandbox). Undefined when the file does not exist
 * and `required` is false.
 */
async function readConfigReach (path: string, required: boolean): Promise<ConfigReach | undefined> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if (!required && (err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw new UsageError(`cannot read ${path}: ${(err as Error).message} (pass --api ADDR, --config FILE or --socket PATH)`)
  }
  let json: unknown
  try { json = JSON.parse(text) } catch (err) { throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`) }
  const c = (typeof json === 'object' && json !== null ? json : {}) as { api?: { enabled?: unknown, listen?: unknown, port?: unknown }, controlSocket?: unknown, stateDir?: unknown }
  const stateDir = typeof c.stateDir === 'string' ? c.stateDir : DEFAULT_STATE_DIR
  const socket = controlSocketPath(typeof c.controlSocket === 'string' ? c.controlSocket : undefined, stateDir)
  const api = c.api ?? {}
  const port = typeof api.port === 'number' ? api.port : DEFAULT_API_PORT
  const host = typeof api.listen === 'string' ? api.listen : DEFAULT_API_LISTEN
  if (api.enabled === false || port === 0) return { socket }
  return { api: { host, port }, socket }
}

function parseAddress (raw: string, from: string): ApiAddress {
  try {
    return parseApiAddress(raw)
  } catch (err) {
    if (err instanceof ApiAddressError) throw new UsageError(`${from}: ${err.message}`)
    throw err
  }
}

/** The API address named by --api or the environment, if any. */
function namedApi (args: ParsedArgs): ApiAddress | undefined {
  const flag = args.values.api
  if (flag !== undefined) {
    if (typeof flag !== 'string') throw new UsageError('--api needs an address')
    return parseAddress(flag, '--api')
  }
  const env = process.env[API_ADDRESS_ENV]
  return env === undefined || env === '' ? undefined : parseAddress(env, `$${API_ADDRESS_ENV}`)
}

function configFlag (args: ParsedArgs): string | undefined {
  const c = args.values.config
  if (c !== undefined && typeof c !== 'string') throw new UsageError('--config needs a file')
  return c
}

/** The client for the agent's API. */
export async function apiClient (args: ParsedArgs): Promise<ApiClient> {
  const named = namedApi(args)
  if (named !== undefined) return new ApiClient(named)
  const path = configFlag(args)
  const fromConfig = await readConfigReach(path ?? DEFAULT_CONFIG_PATH, path !== undefined)
  if (fromConfig?.api !== undefined) return new ApiClient(fromConfig.api)
  if (path !== undefined) throw new UsageError(`${path} gives no fixed API address (api disabled, or port 0); pass --api ADDR`)
  return new ApiClient(parseApiAddress(DEFAULT_API_ADDRESS))
}

/** The path of the agent's control socket. */
export async function controlSocket (args: ParsedArgs): Promise<string> {
  const socket = args.values.socket
  if (typeof socket === 'string') return socket
  const path = configFlag(args)
  if (path !== undefined) return (await readConfigReach(path, true))!.socket
  const named = namedApi(args)
  if (named !== undefined) return await socketFromApi(named)
  const local = await readConfigReach(DEFAULT_CONFIG_PATH, false)
  if (local !== undefined) return local.socket
  throw new UsageError(`no local agent config at ${DEFAULT_CONFIG_PATH}: pass --api ADDR, --config FILE or --socket PATH`)
}

/**
 * Asks the agent where its control socket is. Only for an agent on this
 * machine: a socket path from elsewhere names nothing here.
 */
async function socketFromApi (address: ApiAddress): Promise<string> {
  const shown = formatApiAddress(address)
  if (!isLoopback(address.host) && address.host !== 'localhost') {
    throw new UsageError(`the agent at ${shown} is not on this machine: changes go through an agent's control socket, so run the command on one of the cluster's hosts`)
  }
  const status = await new ApiClient(address).json<StatusResponse>('/status')
  if (status.controlSocket === undefined) throw new UsageError(`the agent at ${shown} does not say where its control socket is (an older agent); pass --config FILE or --socket PATH`)
  return status.controlSocket
}
