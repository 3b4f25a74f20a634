/**
 * Rotating the cluster key with rounds going on: six real agents on [::1],
 * each step a config reload per host (as SIGHUP does), a round apart. Every
 * round of the rotation has a plan on every agent; afterwards each host's
 * connections are closed in turn and open again under the new key.
 */
import test from 'ava'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { reloadAgent } from '../../../agent/daemon.ts'
import { generatePsk } from '../../../agent/net/keys.ts'
import { roundAt } from '../../../lib/rounds.ts'
import { LAB_DRIVERS } from '../../../lab/drivers/index.ts'
import { startTestCluster, waitFor } from './harness.ts'
import { threeDcSpec } from './scenario.ts'

/**
 * Reconnecting and hearing every member again takes a few rounds of 1 s; on
 * a busy 2-core CI machine, more. The deadline only bounds a hang.
 */
const REJOIN_MS = 60_000

test('the cluster key rotates in three reload steps per host, a round apart, with no round left without a plan; new connections then use the new key', async t => {
  t.timeout(600_000)
  const cluster = await startTestCluster(t, threeDcSpec({ roundPeriodMs: 1000 }))
  const agents = [...cluster.agents.values()]
  const timing = agents[0]!.timing
  const text = (b: Uint8Array): string => new TextDecoder().decode(b)
  const oldKey = text(await import('node:fs/promises').then(async fs => await fs.readFile(join(cluster.dir, 'psk'))))
  const newKey = text(generatePsk())
  const everyoneLive = async (): Promise<void> => {
    await waitFor(() => agents.every(a => a.view.live(Date.now()).length === agents.length), REJOIN_MS, 'every agent to see every member live')
  }
  await everyoneLive()
  await waitFor(() => agents.every(a => a.rounds.get(roundAt(Date.now(), timing) - 1)?.planner !== undefined), REJOIN_MS, 'a round planned everywhere')
  const first = roundAt(Date.now(), timing)

  const steps: Array<[string, string]> = [['accept the new key', `${oldKey}\n\n${newKey}`], ['speak the new key', `${newKey}\n\n${oldKey}`], ['drop the old key', newKey]]
  for (const [label, ring] of steps) {
    for (const agent of agents) {
      // Each host its own key file and config, as on real hosts.
      const pskFile = join(cluster.dir, agent.host, 'psk')
      await writeFile(pskFile, ring, { mode: 0o600 })
      const path = join(cluster.dir, agent.host, 'config.json')
      await writeFile(path, JSON.stringify({ ...agent.config, pskFile }))
      const report = await reloadAgent(agent, path, LAB_DRIVERS)
      t.is(report.result, 'applied', `${label} on ${agent.host}: ${JSON.stringify(report)}`)
      t.true(report.applied.some(f => f.field === 'pskFile'))
      // A round goes by between hosts, as in a rolling change.
      const next = roundAt(Date.now(), timing) + 1
      await waitFor(() => agents.every(a => a.rounds.get(next)?.planner !== undefined), REJOIN_MS, `round ${next}'s plan everywhere`)
    }
  }
  const last = roundAt(Date.now(), timing) - 1
  // The rounds ran through the whole rotation, and every one got a plan everywhere.
  t.log(`the rotation spanned rounds ${first}..${last} (${last - first + 1})`)
  for (let r = first; r <= last; r++) {
    for (const a of agents) t.not(a.rounds.get(r)?.planner, undefined, `round ${r} on ${a.host}`)
  }
  t.true(agents.every(a => a.node.keyring.keys.length === 1))

  // Connections opened now use the new key: each host closes its own in turn and hears everyone again.
  for (const agent of agents) {
    const closedAt = Date.now()
    for (const peer of agent.node.libp2p.getPeers()) await agent.node.libp2p.hangUp(peerIdFromString(peer.toString()))
    await waitFor(() => agents.every(a => a === agent || (a.view.member(agent.host)!.lastSeenMs > closedAt && agent.view.member(a.host)!.lastSeenMs > closedAt)), REJOIN_MS, `${agent.host} and the others to hear each other anew`)
  }
})
