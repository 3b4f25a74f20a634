/** `heliotrope lab agent`: the agent command with the lab's drivers, run as its own process. */
import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { oneSimHost } from './one-sim-host.ts'

const BIN = new URL('../../agent/bin/heliotrope.js', import.meta.url).pathname

function run (args: string[], opts: { until?: RegExp, signalAfterMatch?: NodeJS.Signals, timeoutMs?: number } = {}): Promise<{ code: number | null, out: string, err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''; let err = ''; let signalled = false
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timed out; stdout:\n${out}\nstderr:\n${err}`)) }, opts.timeoutMs ?? 30_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (!signalled && opts.until !== undefined && opts.until.test(out) && opts.signalAfterMatch !== undefined) { signalled = true; child.kill(opts.signalAfterMatch) }
    })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('exit', code => { clearTimeout(timer); resolve({ code, out, err }) })
  })
}

// The agent command on the lab's sim drivers (`heliotrope lab agent` is `heliotrope agent` with them registered).
test('`heliotrope lab agent` runs from a config file and stops cleanly on SIGTERM', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htcli-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  // A config without mode only observes; this one is to plan.
  const host = await oneSimHost(dir, 'cli', { mode: 'auto' })
  const r = await run(['lab', 'agent', '--config', host.path], { until: /"msg":"planned"/, signalAfterMatch: 'SIGTERM' })
  const lines = r.out.trim().split('\n').map(l => JSON.parse(l) as { msg: string, [k: string]: unknown })
  t.is(r.code, 0, r.err)
  t.true(lines.some(l => l.msg === 'agent started' && l.peerId === host.peerId))
  t.true(lines.some(l => l.msg === 'planned'), 'a one-host cluster still plans its rounds')
  t.true(lines.some(l => l.msg === 'stopping' && l.signal === 'SIGTERM'))
  t.is(lines.at(-1)!.msg, 'agent stopped')
})
