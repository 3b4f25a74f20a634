/**
 * Rotating the cluster key with rounds going on: six real agents on [::1],
 * each step `heliotrope key`'s on the host's key file, then a config reload
 * (as SIGHUP does), one host a round after the other. Every
 * round of the rotation has a plan on every agent; afterwards each host's
 * connections are closed in turn and open again under the new key.
 */
import test from 'ava'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { peerIdFromString } from '@libp2p/peer-id'
import { reloadAgent } from '../../../agent/daemon.ts'
import { keyStep } from '../../../agent/cli/key-command.ts'
import { generatePsk, keyFingerprint, parsePsk, pskKeys } from '../../../agent/net/keys.ts'
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
  // The operator's commands, on each host's own key file (a copy of the cluster's, as on real hosts).
  const newKeyFile = join(cluster.dir, 'new.key')
  const newKey = generatePsk()
  await writeFile(newKeyFile, newKey, { mode: 0o600 })
  const newPrint = keyFingerprint(pskKeys(newKey)[0]!)
  const oldPrint = keyFingerprint(pskKeys(parsePsk(await readFile(join(cluster.dir, 'psk'))))[0]!)
  for (const agent of agents) await copyFile(join(cluster.dir, 'psk'), join(cluster.dir, agent.host, 'psk'))
  const everyoneLive = async (): Promise<void> => {
    await waitFor(() => agents.every(a => a.view.live(Date.now()).length === agents.length), REJOIN_MS, 'every agent to see every member live')
  }
  await everyoneLive()
  await waitFor(() => agents.every(a => a.rounds.get(roundAt(Date.now(), timing) - 1)?.planner !== undefined), REJOIN_MS, 'a round planned everywhere')
  const first = roundAt(Date.now(), timing)

  const steps: Array<[string, string[]]> = [['accept the new key', ['add', newKeyFile]], ['speak the new key', ['use', newPrint]], ['drop the old key', ['drop', oldPrint]]]
  for (const [label, step] of steps) {
    for (const agent of agents) {
      const pskFile = join(cluster.dir, agent.host, 'psk')
      // heliotrope key's own step, in this process: a CLI process per step (tested in
      // test/agent/config/key-command.test.ts) would take the agents' CPU on a 2-core machine.
      await keyStep(pskFile, step[0] as 'add' | 'use' | 'drop', step[1]!)
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
