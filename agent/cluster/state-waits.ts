/**
 * Where a digest waits for its author's state. A host's state and digest
 * travel on different topics, through different meshes, so right after a VM
 * arrives the digest that lists it can overtake the state that does; the
 * view would drop it as naming a VM that is not the author's. Such a digest
 * waits here, briefly, for the author's next state and is then checked
 * again. (With a state sent only when it changes, no next round's copy
 * would make up for the lost digest.) A forged digest just waits and is
 * dropped as before. Bounded per host, so a flood of them costs nothing.
 */
export class StateWaits {
  private readonly waiting = new Map<string, Set<(arrived: boolean) => void>>()
  private readonly maxPerHost: number

  constructor (maxPerHost = 8) {
    this.maxPerHost = maxPerHost
  }

  /** True once a newer state of `host` has arrived; false after `ms`, when too many wait already, or on close. */
  async wait (host: string, ms: number): Promise<boolean> {
    let set = this.waiting.get(host)
    if (set === undefined) { set = new Set(); this.waiting.set(host, set) }
    if (set.size >= this.maxPerHost) return false
    const waiters = set
    return await new Promise<boolean>(resolve => {
      const done = (arrived: boolean): void => {
        clearTimeout(timer)
        waiters.delete(done)
        resolve(arrived)
      }
      const timer = setTimeout(() => done(false), ms)
      waiters.add(done)
    })
  }

  /** A state of `host` was accepted: everything waiting for one goes on. */
  arrived (host: string): void {
    const set = this.waiting.get(host)
    if (set === undefined) return
    this.waiting.delete(host)
    for (const done of [...set]) done(true)
  }

  close (): void {
    for (const set of this.waiting.values()) for (const done of [...set]) done(false)
    this.waiting.clear()
  }
}
