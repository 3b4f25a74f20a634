/**
 * `systemctl reload` as the unit does it (ExecReload: kill -HUP $MAINPID):
 * the real CLI, `heliotrope lab agent` (the agent command with the lab's sim
 * drivers; production's need a hypervisor), in a process of its own, sent
 * real SIGHUPs. Each step waits for the agent's own log line, never a sleep.
 */
import test from 'ava'
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import parsePrometheusTextFormat from 'parse-prometheus-text-format'
import type { StatusResponse } from '../../agent/api/types.ts'
import { oneSimHost } from '../lab/one-sim-host.ts'

const BIN = new URL('../../agent/bin/heliotrope.js', import.meta.url).pathname
/**
 * How long any one log line may take to come. Not a timing assertion: the
 * lines come in well under a second, but this machine is shared and has 2
 * cores, and a process's start (Node, libp2p) can take many seconds there.
 */
const LINE_DEADLINE_MS = 60_000

interface Line { level: string, msg: string, [k: string]: unknown }

/** The agent's stdout as JSON lines, and a way to wait for the next line that matches. */
class Lines {
  readonly all: Line[] = []
  private buffer = ''
  private readonly waiters: Array<{ match: (l: Line) => boolean, resolve: (l: Line) => void }> = []

  private readonly stderr: () => string

  constructor (child: ChildProcess, stderr: () => string) {
    this.stderr = stderr
    child.stdout!.on('data', (d: Buffer) => {
      this.buffer += d.toString()
      let nl: number
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const text = this.buffer.slice(0, nl)
        this.buffer = this.buffer.slice(nl + 1)
        if (text.trim() !== '') this.add(JSON.parse(text) as Line)
      }
    })
  }

  private add (line: Line): void {
    this.all.push(line)
    for (const w of [...this.waiters]) {
      if (w.match(line)) { this.waiters.splice(this.waiters.indexOf(w), 1); w.resolve(line) }
    }
  }

  /** The first line from index `from` on that matches (one already read, or the next to come). */
  async next (from: number, what: string, match: (l: Line) => boolean): Promise<Line> {
    const seen = this.all.slice(from).find(match)
    if (seen !== undefined) return seen
    return await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line "${what}" within ${LINE_DEADLINE_MS} ms; stdout:\n${this.all.map(l => JSON.stringify(l)).join('\n')}\nstderr:\n${this.stderr()}`)), LINE_DEADLINE_MS)
      this.waiters.push({ match, resolve: l => { clearTimeout(timer); resolve(l) } })
    })
  }
}

test('SIGHUP to `heliotrope agent`: a new per-host limit applies; a bad config is refused at error level and the old limit kept', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htsighup-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const { path, config } = await oneSimHost(dir, 'sighup', { safety: { maxInFlightPerHost: 3 }, api: { listen: '::1', port: 0 } })

  const child = spawn(process.execPath, [BIN, 'lab', 'agent', '--config', path], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stderr = ''
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const exited = new Promise<number | null>(resolve => child.on('exit', code => resolve(code)))
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL') })
  const lines = new Lines(child, () => stderr)

  const api = String((await lines.next(0, 'api listening', l => l.msg === 'api listening')).address)
  await lines.next(0, 'agent started', l => l.msg === 'agent started')
  const limit = async (): Promise<number | undefined> => (await (await fetch(`http://${api}/status`)).json() as StatusResponse).limits?.safety.maxInFlightPerHost
  t.is(await limit(), 3)

  // A new local limit.
  let mark = lines.all.length
  await writeFile(path, JSON.stringify({ ...config, safety: { maxInFlightPerHost: 1 } }))
  process.kill(child.pid!, 'SIGHUP')
  const applied = await lines.next(mark, 'config reloaded', l => l.msg === 'config reloaded')
  t.like(applied, { level: 'info', result: 'applied', applied: ['safety.maxInFlightPerHost'], restartNeeded: [] })
  t.true(lines.all.slice(mark).some(l => l.msg === 'reloading the config' && l.signal === 'SIGHUP' && l.config === path))
  t.is(await limit(), 1, 'the agent plans under the new limit')

  // A bad config: refused, the limit kept, the process still running.
  mark = lines.all.length
  await writeFile(path, '{ "cluster": ')
  process.kill(child.pid!, 'SIGHUP')
  const refused = await lines.next(mark, 'config reload refused', l => l.msg === 'config reload refused; the running config is kept')
  t.is(refused.level, 'error')
  t.regex(String(refused.reason), /is not valid JSON/)
  t.is(await limit(), 1, 'the old config is kept')
  const metrics = parsePrometheusTextFormat(await (await fetch(`http://${api}/metrics`)).text())
  const counts = Object.fromEntries(metrics.find(f => f.name === 'heliotrope_config_reloads_total')!.metrics.map(m => [m.labels?.result, Number(m.value)]))
  t.deepEqual(counts, { applied: 1, staged: 0, refused: 1, 'restart-needed': 0 })

  child.kill('SIGTERM')
  t.is(await exited, 0, stderr)
  t.is(lines.all.at(-1)?.msg, 'agent stopped')
})
