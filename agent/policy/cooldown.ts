/**
 * Per-VM cooldown: a VM that moved stays put for the next K rounds, so two
 * planners with slightly different views cannot bounce it back and forth.
 * Fed by migration-done events, which every agent sees.
 */
export class Cooldown {
  private readonly movedAt = new Map<string, number>()
  private rounds: number

  constructor (rounds: number) {
    this.rounds = rounds
  }

  /** A reloaded config's cooldown: VMs that moved are held for the new count of rounds from their move. */
  setRounds (rounds: number): void {
    this.rounds = rounds
  }

  moved (vm: string, round: number): void {
    this.movedAt.set(vm, Math.max(round, this.movedAt.get(vm) ?? -Infinity))
  }

  /** VMs that may not move in `round`. */
  cooling (round: number): string[] {
    const out: string[] = []
    for (const [vm, at] of this.movedAt) {
      if (round - at <= this.rounds) out.push(vm)
      else this.movedAt.delete(vm)
    }
    return out.sort()
  }

  /** VMs that may not move in `round`, each with the rounds it still stays put after it (rollouts play the wait forward). */
  left (round: number): Map<string, number> {
    return new Map(this.cooling(round).map(vm => [vm, this.movedAt.get(vm)! + this.rounds - round]))
  }
}
