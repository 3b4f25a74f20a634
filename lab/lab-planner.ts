/**
 * The planner section of the lab's agents. The lab squeezes a WAN into one
 * machine: flows of a few hundred kbit/s on throttled links, VMs of
 * hundreds of MiB, rounds of seconds. At the agents' default payback (a
 * move must save its memory copy within an hour of the traffic it takes off
 * the WAN) a lab VM would need hours, so nothing would move: lab agents
 * count moves as free unless their scenario sets planner.weights.migration.
 */
export function labPlanner<T extends Record<string, unknown>> (section: T): T {
  const weights = (section.weights ?? {}) as Record<string, unknown>
  // T is a planner section as JSON; the result is the same section with one weight more.
  return { ...section, weights: { migration: 0, ...weights } } as unknown as T
}
