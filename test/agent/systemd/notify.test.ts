import test from 'ava'
import { SystemdNotifier, waitUntilJoined } from '../../../agent/systemd/notify.ts'
import { silentLogger } from '../../../agent/log.ts'

test('the notifier speaks only under systemd (NOTIFY_SOCKET), and says ready, status and stopping through systemd-notify', async t => {
  const sent: string[][] = []
  const off = new SystemdNotifier({ log: silentLogger(), run: async args => { sent.push(args) } }, {})
  await off.ready('x')
  t.deepEqual(sent, [])
  const on = new SystemdNotifier({ log: silentLogger(), run: async args => { sent.push(args) } }, { NOTIFY_SOCKET: '/run/systemd/notify' })
  await on.ready('joined cluster prod')
  await on.status('round 7: migrating')
  await on.stopping()
  t.deepEqual(sent, [['--ready', '--status=joined cluster prod'], ['--status=round 7: migrating'], ['STOPPING=1']])
  const failing = new SystemdNotifier({ log: silentLogger(), run: async () => { throw new Error('no systemd-notify') } }, { NOTIFY_SOCKET: 'x' })
  await t.notThrowsAsync(failing.ready('x'), 'a failed notification is logged, never fatal')
})

test('readiness waits for a first peer, and gives up waiting after the timeout (the first host has none)', async t => {
  let peers = 0
  setTimeout(() => { peers = 1 }, 300)
  t.true(await waitUntilJoined(() => peers, 5000))
  const started = Date.now()
  t.false(await waitUntilJoined(() => 0, 400))
  t.true(Date.now() - started >= 400)
})
