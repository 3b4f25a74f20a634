/**
 * `heliotrope sandbox` as a new user runs it: three agent processes on
 * [::1] until every one plans; the printed API address reaches an agent for
 * reading and for changes (pin, through the socket /status names); Ctrl-C
 * stops every agent and removes the directory.
 */
import test from 'ava'
import { spawn } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { heliotrope } from '../agent/cli-run.ts'

const BIN = new URL('../../agent/bin/heliotrope.js', import.meta.url).pathname
/**
 * Three agent processes load the code (about 2 s of CPU each) and run a
 * round on a busy 2-core CI machine; the sandbox took 7 s alone. The
 * deadline only bounds a hang.
 */
const PLANNING_DEADLINE_MS = 180_000

/** Command lines of every process whose arguments mention `text`. */
async function processesMentioning (text: string): Promise<string[]> {
  const found: string[] = []
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid) || Number(pid) === process.pid) continue
    const cmd = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '')
    if (cmd.includes(text)) found.push(cmd.replaceAll('\0', ' '))
  }
  return found
}

test('the sandbox starts three planning agents, one address reaches them for reads and changes, and Ctrl-C cleans up', async t => {
  const parent = await mkdtemp(join(tmpdir(), 'htsbx-'))
  t.teardown(async () => { await rm(parent, { recursive: true, force: true }) })
  const dir = join(parent, 'sandbox')
  const child = spawn(process.execPath, [BIN, 'sandbox', '--dir', dir, '--period', '1000'], { stdio: ['ignore', 'pipe', 'pipe'] })
  let out = ''; let err = ''
  child.stderr.on('data', (d: Buffer) => { err += d.toString() })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
  t.teardown(() => { child.kill('SIGKILL') })
  const planning = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`no "planning" line in time; stdout:\n${out}\nstderr:\n${err}`)) }, PLANNING_DEADLINE_MS)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      // Resolve once the instructions after the planning line are out too.
      if (/all 3 agents planning/.test(out) && /Ctrl-C stops/.test(out)) { clearTimeout(timer); resolve(out) }
    })
    void exited.then(code => { clearTimeout(timer); reject(new Error(`the sandbox exited (${code}) before planning; stdout:\n${out}\nstderr:\n${err}`)) })
  })
  t.regex(planning, /all 3 agents planning \d+\.\d s after the command \(round \d+: planner \S+, every agent accepted its plan\)/)
  const api = /export HELIOTROPE_API=(\S+)/.exec(planning)?.[1]
  t.truthy(api, planning)
  const vm = /npx heliotrope pin (\S+)/.exec(planning)?.[1]
  t.truthy(vm)

  const members = await heliotrope(['members', '--json', '--api', api!])
  t.is(members.code, 0, members.err)
  const listed = (JSON.parse(members.out) as { members: Array<{ host: string, status: string }> }).members
  t.is(listed.length, 3)
  t.true(listed.every(m => m.status === 'up'), members.out)

  // A change given only the API address: the command asks the agent for its control socket.
  const pin = await heliotrope(['pin', vm!, '--api', api!])
  t.is(pin.code, 0, pin.err)
  t.regex(pin.out, new RegExp(`^pinned ${vm!}`))
  const pins = await heliotrope(['pin', '--api', api!])
  t.is(pins.out.trim(), `pinned: ${vm!}`)
  const approve = await heliotrope(['approve', '--api', api!])
  t.is(approve.code, 0, approve.err)
  t.regex(approve.out, /approve it with: heliotrope approve \d+|no plan waits for approval/)

  // An agent elsewhere: refused before anything is sent (192.0.2.1 is a documentation address).
  const far = await heliotrope(['pin', vm!, '--api', '192.0.2.1:7878'])
  t.is(far.code, 2)
  t.regex(far.err, /is not on this machine/)

  child.kill('SIGINT')
  t.is(await exited, 0, `stdout:\n${out}\nstderr:\n${err}`)
  t.regex(out, new RegExp(`removed ${dir.replaceAll('/', '\\/')}`))
  await t.throwsAsync(stat(dir), { code: 'ENOENT' })
  t.deepEqual(await processesMentioning(dir), [], 'every agent process has ended')
})
