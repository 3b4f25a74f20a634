/**
 * A max-heap of (key, item) with integer items. Ties go to the lower item,
 * so planners that pop from it are deterministic. Entries are never updated
 * in place: callers push again and skip stale entries ("lazy" updates).
 */
export class MaxHeap {
  private keys: number[] = []
  private items: number[] = []

  get size (): number {
    return this.keys.length
  }

  push (key: number, item: number): void {
    this.keys.push(key); this.items.push(item)
    let i = this.keys.length - 1
    while (i > 0) {
      const p = (i - 1) >> 1
      if (!this.above(i, p)) break
      this.swap(i, p); i = p
    }
  }

  /** The top entry as [key, item] without removing it. */
  peek (): [number, number] | undefined {
    return this.keys.length > 0 ? [this.keys[0]!, this.items[0]!] : undefined
  }

  peekKey (): number {
    return this.keys.length > 0 ? this.keys[0]! : -Infinity
  }

  /** Removes the top entry and returns [key, item]; undefined when empty. */
  pop (): [number, number] | undefined {
    if (this.keys.length === 0) return undefined
    const top: [number, number] = [this.keys[0]!, this.items[0]!]
    const lastKey = this.keys.pop()!; const lastItem = this.items.pop()!
    if (this.keys.length > 0) {
      this.keys[0] = lastKey; this.items[0] = lastItem
      let i = 0
      for (;;) {
        const l = 2 * i + 1; const r = l + 1; let m = i
        if (l < this.keys.length && this.above(l, m)) m = l
        if (r < this.keys.length && this.above(r, m)) m = r
        if (m === i) break
        this.swap(i, m); i = m
      }
    }
    return top
  }

  private above (a: number, b: number): boolean {
    const ka = this.keys[a]!; const kb = this.keys[b]!
    return ka > kb || (ka === kb && this.items[a]! < this.items[b]!)
  }

  private swap (a: number, b: number): void {
    const k = this.keys[a]!; this.keys[a] = this.keys[b]!; this.keys[b] = k
    const t = this.items[a]!; this.items[a] = this.items[b]!; this.items[b] = t
  }
}
