/**
 * A stop of the Xen driver while `xl migrate` hangs, with a fake xl that is
 * a real process (fake-xl.ts): the stop ends xl and the child it forked
 * (its process group), SIGKILL when SIGTERM is not enough, and the result
 * says where the domain runs (`xl list`). And when the agent itself dies
 * (kill -9), its xl child gets SIGTERM from the kernel (setpriv --pdeathsig).
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { XenDriver } from '../../../../agent/drivers/xen/driver.ts'
import { createFakeXl, isAlive, waitGone } from './fake-xl.ts'
import { config, xlList, xlListLong } from './fixtures.ts'

const A = 'fd00:4854:1:2::1'
const B = 'fd00:4854:1:2::2'
/** Generous: a busy two-core machine. */
const START_TIMEOUT_MS = 30_000
const GONE_TIMEOUT_MS = 30_000

async function answers (): Promise<{ list: string, listLong: string }> {
  return {
    list: xlList([
      { name: 'Domain-0', domid: 0, memMiB: 750, vcpus: 4, state: 'r-----', seconds: 11794.3 },
      { name: 'test-pv', domid: 1, memMiB: 512, vcpus: 4, state: '-b----', seconds: 12.5 }
    ]),
    listLong: xlListLong([
      { domid: 0, config: { c_info: { type: 'pv', name: 'Domain-0' }, b_info: { max_vcpus: 4, max_memkb: 768000 } } },
      { domid: 1, config: await config('libxl-config-multiple-ip.json') }
    ])
  }
}

for (const ignoreTerm of [false, true]) {
  test(`stop ends a hanging xl migrate and its child${ignoreTerm ? ' (deaf to SIGTERM: SIGKILL after the grace)' : ''}; the domain is confirmed here`, async t => {
    t.timeout(90_000)
    const xl = await createFakeXl(await answers(), { ignoreTerm })
    t.teardown(xl.destroy)
    const d = new XenDriver({ address: A }, { binary: xl.binary })
    await d.start()
    const migration = d.migrate('test-pv', { address: B }, { deadlineMs: 600_000 })
    const pids = await xl.migratePids(START_TIMEOUT_MS)
    t.teardown(() => { for (const p of [pids.xl, pids.ssh]) try { process.kill(p, 'SIGKILL') } catch { /* gone */ } })
    t.true(await isAlive(pids.xl) && await isAlive(pids.ssh), 'xl migrate and its child run')
    t.deepEqual((await d.list()).map(v => [v.id, v.status]), [['test-pv', 'migrating']])

    const started = Date.now()
    await d.stop()
    const stopMs = Date.now() - started
    t.log(`stop took ${stopMs} ms`)
    // stop returns once migrate() has its answer, so the processes are gone by then.
    t.false(await isAlive(pids.xl), 'xl migrate is gone')
    t.true(await waitGone(pids.ssh, GONE_TIMEOUT_MS), 'its child is gone')
    const r = await migration
    t.false(r.ok)
    t.regex(r.error ?? '', /^the agent is stopping: xl migrate ended/)
    t.is(r.runsOn, 'source')
    if (ignoreTerm) t.true(stopMs >= 4_000, 'SIGKILL only after the grace')
  })
}

test('an xl child dies with the agent: kill -9 of the parent, the kernel sends xl SIGTERM (setpriv --pdeathsig)', async t => {
  t.timeout(90_000)
  const xl = await createFakeXl(await answers())
  t.teardown(xl.destroy)
  // A stand-in agent: a process that runs the real runner on the fake xl and hangs in it.
  const runner = fileURLToPath(new URL('../../../../agent/drivers/command.ts', import.meta.url))
  const code = `const { runCommand } = await import(${JSON.stringify(runner)}); await runCommand([${JSON.stringify(xl.binary)}, 'migrate', 'test-pv', 'root@[${B}]'], { timeoutMs: 600000 })`
  const agent = spawn(process.execPath, ['--input-type=module', '-e', code], { stdio: 'ignore' })
  t.teardown(() => { agent.kill('SIGKILL') })
  const pids = await xl.migratePids(START_TIMEOUT_MS)
  t.teardown(() => { for (const p of [pids.xl, pids.ssh]) try { process.kill(p, 'SIGKILL') } catch { /* gone */ } })
  agent.kill('SIGKILL')
  t.true(await waitGone(pids.xl, GONE_TIMEOUT_MS), 'xl migrate died with its parent')
})
