/**
 * Cluster settings in a cluster with an admin key (docs/design.md §3.6):
 * `heliotrope cluster set` signs the record with admin.key, every agent
 * takes it; a record without the admin's signature, sent by a member (as a
 * member whose host was taken over would), is dropped by every agent as
 * bad-signature and changes nothing. Real agents on [::1].
 */
import test from 'ava'
import type { Agent } from '../../../agent/agent.ts'
import { controlSocketPath } from '../../../agent/policy/config.ts'
import type { EventMessage } from '../../../lib/wire/messages.ts'
import { rotateAdminKey } from '../../../agent/cli/admin-key-command.ts'
import { agentTrust } from '../../../agent/cli/invite-command.ts'
import { readAdminKey } from '../../../agent/membership/admin-key.ts'
import { buildToken } from '../../../agent/membership/invite.ts'
import { heliotrope } from '../cli-run.ts'
import { waitFor } from '../mesh/harness.ts'
import { acceptToken, fourWithAdminKey, GENEROUS_MS, type LogLine } from './four.ts'

/** The agent's own way of sending an event, reached past `private`: a test stands in for a member that sends what the CLI never would. */
async function sendEvent (a: Agent, body: EventMessage): Promise<void> {
  await (a as unknown as { publishEvent: (b: EventMessage) => Promise<void> }).publishEvent(body)
}

test.serial('with an admin key, cluster set is signed and reaches every agent; unsigned or forged settings from a member are dropped as bad-signature everywhere', async t => {
  const lines: LogLine[] = []
  const { cluster, adminKeyFile } = await fourWithAdminKey(t, lines)
  const agents = [...cluster.agents.values()]
  const b1 = cluster.configs.get('b1')!
  const socket = controlSocketPath(b1.controlSocket, b1.stateDir)
  const fileMode = agents[0]!.mode

  // Without the key the agent refuses, and says how to sign.
  const bare = await heliotrope(['cluster', 'set', 'mode', 'approve', '--socket', socket])
  t.is(bare.code, 1, bare.out)
  t.regex(bare.err, /signed with its admin key: run heliotrope cluster set on a host that holds admin\.key .*--admin-key FILE/)
  t.true(agents.every(a => a.mode === fileMode), 'nothing changed')

  // With it: signed by the command, taken by every agent.
  const set = await heliotrope(['cluster', 'set', 'mode', 'approve', 'cooldownRounds', '4', '--admin-key', adminKeyFile, '--socket', socket])
  t.is(set.code, 0, set.err)
  t.regex(set.out, /cluster settings version 1: mode approve, cooldownRounds 4; \d\/4 live members hold it/)
  await waitFor(() => agents.every(a => a.mode === 'approve' && a.controls.settings.record?.sig !== undefined), GENEROUS_MS, 'every agent in mode approve by the signed record')
  t.is(cluster.agents.get('a1')!.controls.settings.record?.setBy, 'b1')

  // A member sends records the admin never signed: none, and a stolen signature over other values.
  const c1 = cluster.agents.get('c1')!
  const others = agents.filter(a => a !== c1)
  const before = others.map(a => a.view.drops['bad-signature'])
  const held = c1.controls.settings.record!
  await sendEvent(c1, { kind: 'settings', settings: { version: 7, setBy: 'c1', at: Date.now(), values: { mode: 'auto' } } })
  await sendEvent(c1, { kind: 'settings', settings: { version: 8, setBy: 'c1', at: Date.now(), values: { mode: 'auto' }, sig: held.sig! } })
  await waitFor(() => others.every((a, i) => a.view.drops['bad-signature'] >= before[i]! + 2), GENEROUS_MS, 'both records dropped as bad-signature by every other agent')
  t.true(agents.every(a => a.mode === 'approve' && a.controls.settings.version === 1), 'every agent, c1 included, still runs by version 1')
  t.true(lines.some(l => l.level === 'warn' && l.msg === 'cluster settings dropped: not signed by the cluster admin key' && l.why === 'unsigned'), 'the unsigned record is said')
  t.true(lines.some(l => l.level === 'warn' && l.msg === 'cluster settings dropped: not signed by the cluster admin key' && l.why === 'bad-signature'), 'the forged one too')

  // The command signs the next version over what the agent holds.
  const unset = await heliotrope(['cluster', 'unset', 'cooldownRounds', '--admin-key', adminKeyFile, '--socket', socket])
  t.is(unset.code, 0, unset.err)
  t.regex(unset.out, /cluster settings version 2: cooldownRounds back to each host's file/)
  await waitFor(() => agents.every(a => a.controls.settings.version === 2), GENEROUS_MS, 'every agent at version 2')

  // The placement rules travel the same way, from standard input: signed whole, rules and all.
  const rules = [{ kind: 'avoid', vm: 'app0-0', dcs: ['C'] }]
  const setRules = await heliotrope(['cluster', 'set', 'rules', '-', '--admin-key', adminKeyFile, '--socket', socket], 60_000, JSON.stringify(rules))
  t.is(setRules.code, 0, setRules.err)
  t.regex(setRules.out, /cluster settings version 3: rules 1 rule \(1 avoid\)/)
  await waitFor(() => agents.every(a => a.controls.settings.version === 3), GENEROUS_MS, 'every agent at version 3')
  for (const a of agents) {
    t.deepEqual(a.controls.planner.rules, rules, `${a.host} plans with the signed rules`)
    t.not(a.controls.settings.record?.sig, undefined)
  }
  // A member cannot slip other rules in under the admin's signature.
  const signedRecord = c1.controls.settings.record!
  const dropsBefore = others.map(a => a.view.drops['bad-signature'])
  await sendEvent(c1, { kind: 'settings', settings: { ...signedRecord, version: 9, values: { ...signedRecord.values, rules: [] } } })
  await waitFor(() => others.every((a, i) => a.view.drops['bad-signature'] > dropsBefore[i]!), GENEROUS_MS, 'the forged rules dropped as bad-signature by every other agent')
  t.true(agents.every(a => a.controls.planner.rules.length === 1), 'every agent keeps the signed rules')
})

test.serial('an admin key rotation signs the settings again with the new key: every agent holds the re-signed record, and a host trusting only the new key takes it', async t => {
  const lines: LogLine[] = []
  const { cluster, newcomer, adminKeyFile } = await fourWithAdminKey(t, lines)
  const agents = [...cluster.agents.values()]
  const b1 = cluster.configs.get('b1')!
  const socket = controlSocketPath(b1.controlSocket, b1.stateDir)
  const set = await heliotrope(['cluster', 'set', 'mode', 'approve', '--admin-key', adminKeyFile, '--socket', socket])
  t.is(set.code, 0, set.err)
  await waitFor(() => agents.every(a => a.controls.settings.version === 1), GENEROUS_MS, 'every agent at version 1')
  const oldSig = agents[0]!.controls.settings.record!.sig

  const rotation = await rotateAdminKey(adminKeyFile, socket)
  if (!rotation.ok) { t.fail(rotation.error); return }
  t.regex(rotation.lines.join('\n'), /cluster settings version 1 signed again with the admin key trusted now/)
  // Each agent takes the new signature once it trusts the new key (the rotation's records and the settings event travel apart).
  await waitFor(() => agents.every(a => { const r = a.controls.settings.record!; return r.sig !== oldSig && a.controls.settings.check(r) === undefined }), GENEROUS_MS, 'every agent to hold the record signed by the new key')
  t.true(agents.every(a => a.controls.settings.version === 1 && a.mode === 'approve'), 'the same record: version and values unchanged')

  // A new host joins by a token of the new key (its config names only the new key): it learns the settings from the members.
  const trustedKeys = await agentTrust(cluster.configs.get('a1')!)
  const { token } = await buildToken(cluster.configs.get('a1')!, await readAdminKey(adminKeyFile), { host: 'e1', dc: 'B', now: Date.now(), bootstrap: cluster.bootstrap, ...(trustedKeys !== undefined ? { trustedKeys } : {}) })
  await acceptToken(cluster, newcomer, token)
  const e1 = await cluster.start('e1')
  t.deepEqual(e1.membership!.adminTrust().keys, [rotation.publicKey])
  await waitFor(() => e1.controls.settings.version === 1 && e1.mode === 'approve', GENEROUS_MS, 'e1 to take the cluster settings')
  t.false(lines.some(l => l.msg === 'cluster settings dropped: not signed by the cluster admin key'), 'no member sent e1 a record it could not check')
})
