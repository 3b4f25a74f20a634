/**
 * An aggregator's ledger of its hosts' states (docs/design.md §9.8): the
 * newest signed state of each host that reported to it, and per other
 * aggregator which of them it took this epoch.
 *
 * A host that reports after our first batch to an aggregator, or whose
 * state was in a batch that failed, has its state sent with the next
 * batch: without it the receiver drops the host's digests (they name VMs
 * its old state lacks) and holds the host down until its next refresh, up
 * to STATE_REFRESH_ROUNDS. Seen in CI: one aggregator ranked other planners
 * than the rest for four rounds.
 */
import type { SignedItem } from '../../../lib/wire/relay.ts'

export class StateLedger {
  /** The newest signed state of each host that reported to us. */
  private readonly states = new Map<string, SignedItem>()
  /** Whose state each item of `states` is. */
  private readonly owners = new WeakMap<SignedItem, string>()
  /** Per other aggregator, the state of each of our hosts it took from us this epoch. */
  private readonly given = new Map<string, Map<string, SignedItem>>()

  /** `host` reported `state`, its newest. */
  took (host: string, state: SignedItem): void {
    this.states.set(host, state)
    this.owners.set(state, host)
  }

  /**
   * The states of `hosts` that `target` has not taken from us this epoch
   * and that are not in `sending` already. The caller passes only hosts
   * that report to us now: a dead host's last state, new to that
   * aggregator, would count as a sign of life there (the view dates what it
   * accepts by its arrival) and keep the dead host a planner candidate.
   */
  missing (target: string, hosts: Iterable<string>, sending: readonly SignedItem[]): SignedItem[] {
    const given = this.given.get(target)
    const out: SignedItem[] = []
    for (const host of hosts) {
      const state = this.states.get(host)
      if (state !== undefined && given?.get(host) !== state && !sending.includes(state)) out.push(state)
    }
    return out
  }

  /** `target` took `items`: the states among them count as given. */
  gave (target: string, items: readonly SignedItem[]): void {
    let given = this.given.get(target)
    if (given === undefined) { given = new Map(); this.given.set(target, given) }
    for (const item of items) {
      const host = this.owners.get(item)
      if (host !== undefined) given.set(host, item)
    }
  }

  /** `target` holds nothing of ours we can count on (a new epoch there, or a restart). */
  forget (target: string): void {
    this.given.delete(target)
  }

  /** A new epoch: every aggregator starts over. */
  newEpoch (): void {
    this.given.clear()
  }
}
