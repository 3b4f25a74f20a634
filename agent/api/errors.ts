/** The local API's errors, on both sides of the socket. */

/** A request the API cannot answer as asked (bad query parameter): HTTP 400. */
export class BadRequestError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'BadRequestError'
  }
}

/** The API could not listen where configured. */
export class ApiListenError extends Error {
  constructor (address: string, cause: Error) {
    const code = (cause as NodeJS.ErrnoException).code
    const hint = code === 'EADDRINUSE' ? ': the port is taken (another agent?); set api.port, or api.enabled to false' : ''
    super(`the API cannot listen on ${address}: ${cause.message}${hint}`)
    this.name = 'ApiListenError'
  }
}

/** An --api address that is not [v6]:port, v4:port or a port. */
export class ApiAddressError extends Error {
  constructor (text: string) {
    super(`--api expects an address such as [::1]:7878, 127.0.0.1:7878 or 7878, got ${JSON.stringify(text)}`)
    this.name = 'ApiAddressError'
  }
}

/** Nothing answers at the API address: the agent is not running there. */
export class AgentNotRunningError extends Error {
  constructor (address: string, cause: string) {
    super(`no agent answers at ${address} (${cause}); is \`heliotrope agent\` running? Pick another with --api ADDR`)
    this.name = 'AgentNotRunningError'
  }
}

/** The agent answered with an error status. */
export class ApiResponseError extends Error {
  readonly status: number
  constructor (path: string, status: number, body: string) {
    super(`the agent answered ${status} to ${path}: ${body.trim().slice(0, 200)}`)
    this.name = 'ApiResponseError'
    this.status = status
  }
}
