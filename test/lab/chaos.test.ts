import test from 'ava'
import { runSimChaos } from '../../lab/chaos/sim-chaos.ts'

// The fast part of `heliotrope lab chaos`: two seeded runs of real agents in
// one process, every fault kind, the invariants checked after every round.
for (const seed of [1, 2]) {
  test(`chaos in simulation, seed ${seed}: 60 rounds with kills, skewed restarts, loss, partitions, slow and failing migrations; no violation, no split round`, async t => {
    const r = await runSimChaos({ agents: 8, vms: 40, rounds: 60, seed, roundPeriodMs: 1500 })
    t.log(`faults ${JSON.stringify(r.faults)}; ${r.lostMessages} messages lost; ${r.moves} moves; ${r.roundsWithPlan}/${r.rounds} rounds with a plan; ${r.pingPongs} ping-pongs`)
    t.deepEqual(r.violations, [])
    t.deepEqual(r.splitDetails, [])
    t.true(Object.values(r.faults).every(n => n > 0), 'every fault kind was injected')
    t.true(r.moves > 0, 'the cluster still moved VMs')
    t.true(r.roundsWithPlan >= r.rounds * 0.5, 'most rounds were planned despite the faults')
  })
}
