/** A mistake in how a command was called: print the message and the usage, exit 2. */
export class UsageError extends Error {
  constructor (message: string) {
    super(message)
    this.name = 'UsageError'
  }
}
