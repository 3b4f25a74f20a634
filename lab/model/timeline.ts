/**
 * Tasks run in time order, ties in the order they were scheduled. The relay
 * model's round needs it: reports, batches, the plan and votes overlap in
 * time, and the per-host CPU queue (ledger.ts) is exact only when work is
 * handed to it in time order.
 */
import { MaxHeap } from '../../lib/heap.ts'

export class Timeline {
  private readonly heap = new MaxHeap()
  private readonly tasks: Array<() => void> = []

  /** Runs `task` at `time` (model ms). */
  at (time: number, task: () => void): void {
    this.tasks.push(task)
    // Max-heap on -time: the earliest first; equal times by the lower index, the earlier scheduled.
    this.heap.push(-time, this.tasks.length - 1)
  }

  /** Runs every task, and those they schedule, to the end. */
  run (): void {
    for (let e = this.heap.pop(); e !== undefined; e = this.heap.pop()) this.tasks[e[1]]!()
  }
}
