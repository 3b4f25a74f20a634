/**
 * `heliotrope sandbox`: try heliotrope without VMs. N real agents on
 * loopback, each its own process as systemd would run it, on a simulated
 * world; prints how to reach them and cleans up on Ctrl-C.
 */
import { mkdir, mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { UsageError } from '../../agent/cli/errors.ts'
import { numberOption, type Command } from '../../agent/cli/run.ts'
import { MODES, type Mode } from '../../agent/policy/mode.ts'
import { SCENARIO_KINDS, type ScenarioKind } from '../../lib/scenario.ts'
import { startAgents, stopAgents, whenPlanning } from '../sandbox/agents.ts'
import { writeSandbox, type SandboxFiles } from '../sandbox/files.ts'

const DEFAULTS = { agents: 3, vmsPerAgent: 4, dcs: 3, kind: 'thesis' as ScenarioKind, seed: 1, mode: 'approve' as Mode, periodMs: 2000, timeScale: 0.1 }
/** Lines of a failed agent's log shown on the terminal. */
const LOG_TAIL = 15

export const sandboxCommand: Command = {
  name: 'sandbox',
  summary: 'try it without VMs: N agents on loopback on a simulated world (Ctrl-C ends it)',
  usage: `Usage: heliotrope sandbox [--agents N] [--mode MODE] [--vms V] [--dcs D]
                         [--kind KIND] [--seed S] [--period MS] [--dir DIR] [--keep]

Starts N real agents (default ${DEFAULTS.agents}), each its own process as systemd runs
\`heliotrope agent\` (libp2p with the cluster key, gossipsub, the DHT, the
control socket and the API), on [::1], over a simulated world: the lab's sim
hypervisor and traffic source instead of VMs and nftables. It waits until
every agent plans, says how long that took, and prints the commands to try:
the console, members, pin, drain and approve. Ctrl-C stops the agents (each
leaves the cluster) and removes the directory. Needs no root and no VMs.

Options:
  --agents N    agents (default ${DEFAULTS.agents}), spread over the DCs
  --mode MODE   ${MODES.join(' | ')} (default ${DEFAULTS.mode}: every plan waits for
                \`heliotrope approve\`; \`heliotrope cluster set mode auto\` lets them run)
  --vms V       VMs in the world (default ${DEFAULTS.vmsPerAgent} per agent)
  --dcs D       data centers (default ${DEFAULTS.dcs}, at most N)
  --kind KIND   ${SCENARIO_KINDS.join(' | ')}: the world's applications and links (default ${DEFAULTS.kind})
  --seed S      the world's seed (default ${DEFAULTS.seed})
  --period MS   round period (default ${DEFAULTS.periodMs})
  --dir DIR     where the agents' files go (default a new directory in ${tmpdir()});
                it must be empty or absent
  --keep        keep the directory at the end (configs, keys, logs, the world)
`,
  options: {
    agents: { type: 'string', short: 'n' },
    mode: { type: 'string' },
    vms: { type: 'string' },
    dcs: { type: 'string' },
    kind: { type: 'string' },
    seed: { type: 'string' },
    period: { type: 'string' },
    dir: { type: 'string' },
    keep: { type: 'boolean' }
  },
  async run (args) {
    if (args.positionals.length > 0) throw new UsageError(`unexpected ${JSON.stringify(args.positionals[0])}`)
    const agents = numberOption(args, 'agents', DEFAULTS.agents, { integer: true, min: 1 })
    if (agents > 64) throw new UsageError('--agents: at most 64 on one machine (each is a process of about 150 MB)')
    const mode = (args.values.mode ?? DEFAULTS.mode) as Mode
    if (!MODES.includes(mode)) throw new UsageError(`--mode: one of ${MODES.join(', ')}, not ${JSON.stringify(mode)}`)
    const kind = (args.values.kind ?? DEFAULTS.kind) as ScenarioKind
    if (!SCENARIO_KINDS.includes(kind)) throw new UsageError(`--kind: one of ${SCENARIO_KINDS.join(', ')}, not ${JSON.stringify(kind)}`)
    const options = {
      agents,
      mode,
      kind,
      vms: numberOption(args, 'vms', DEFAULTS.vmsPerAgent * agents, { integer: true, min: 1 }),
      dcs: Math.min(agents, numberOption(args, 'dcs', DEFAULTS.dcs, { integer: true, min: 1 })),
      seed: numberOption(args, 'seed', DEFAULTS.seed, { integer: true }),
      roundPeriodMs: numberOption(args, 'period', DEFAULTS.periodMs, { integer: true, min: 500 }),
      timeScale: DEFAULTS.timeScale
    }
    const startedAt = Date.now()
    const dir = await sandboxDir(typeof args.values.dir === 'string' ? args.values.dir : undefined)
    const keep = args.values.keep === true
    const say = (line: string): void => { process.stdout.write(line + '\n') }

    let files: SandboxFiles
    try {
      files = await writeSandbox(dir, options)
    } catch (err) {
      if (!keep) await rm(dir, { recursive: true, force: true })
      throw err
    }
    say(`sandbox: ${agents} agents on [::1], mode ${mode}, a ${kind} world of ${files.vms} VMs in ${files.dcs.length} DCs (${files.dcs.join(' ')}), in ${dir}`)

    let stopping = false
    let failed: { host: string, logPath: string } | undefined
    const ended = new AbortController()
    const running = startAgents(files.agents, (a, code) => {
      if (stopping) return
      failed ??= a
      say(`agent ${a.host} exited (code ${code ?? 'by signal'}); its log: ${a.logPath}`)
      ended.abort(new Error(`agent ${a.host} exited`))
    })
    const stop = (): void => { if (!ended.signal.aborted) ended.abort(new Error('stopped')) }
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)

    let code = 0
    try {
      const planning = await whenPlanning(files.agents, ended.signal)
      const s = ((Date.now() - startedAt) / 1000).toFixed(1)
      say(`all ${agents} agents planning ${s} s after the command (round ${planning.round}: planner ${planning.planner}, every agent accepted its plan)`)
      say('')
      say(instructions(files, mode).join('\n'))
      await new Promise(resolve => ended.signal.addEventListener('abort', resolve, { once: true }))
      if ((ended.signal.reason as Error).message !== 'stopped') code = 1
    } catch (err) {
      code = 1
      if ((err as Error).message !== 'stopped') say(`sandbox: ${(err as Error).message}`)
    } finally {
      stopping = true
      say('\nstopping the agents...')
      if (failed !== undefined) await showTail(failed.host, failed.logPath, say)
      await stopAgents(running)
      process.off('SIGINT', stop)
      process.off('SIGTERM', stop)
      if (keep) say(`kept ${dir}`)
      else { await rm(dir, { recursive: true, force: true }); say(`removed ${dir}`) }
    }
    return code
  }
}

/** The given directory (created; must hold nothing) or a new one. */
async function sandboxDir (given: string | undefined): Promise<string> {
  if (given === undefined) return await mkdtemp(join(tmpdir(), 'heliotrope-sandbox-'))
  const dir = resolve(given)
  await mkdir(dir, { recursive: true })
  if ((await readdir(dir)).length > 0) throw new UsageError(`--dir ${dir} is not empty`)
  return dir
}

function instructions (files: SandboxFiles, mode: Mode): string[] {
  const first = files.agents[0]!
  const vm = files.someVm
  // [command, what it does]
  const rows: Array<[string, string]> = [
    [`export HELIOTROPE_API=${first.api}`, `agent ${first.host}: every command below talks to it`],
    ['npx heliotrope console', 'the gossip debug console (keys 1-6 pick a pane, q quits)'],
    ['npx heliotrope members', `the cluster as ${first.host} sees it`],
    ...(mode === 'approve'
      ? [['npx heliotrope approve', 'the plan waiting for approval: its cost when planned and now'],
          ['npx heliotrope approve ROUND', 'run it (each host migrates its own VMs)']] satisfies Array<[string, string]>
      : []),
    [`npx heliotrope pin ${vm}`, `no plan moves ${vm} (the console lists every VM); unpin ${vm} ends it`],
    ['npx heliotrope drain --wait', `empty ${first.host}${mode === 'approve' ? ' (each evacuation waits for an approval)' : ''}; undrain ends it`],
    [`npx heliotrope cluster set mode ${mode === 'auto' ? 'approve' : 'auto'}`, 'for every agent at once']
  ]
  const width = Math.max(...rows.map(r => r[0].length))
  return [
    'Try it, in another terminal in this directory:',
    ...rows.map(([cmd, what]) => `  ${cmd.padEnd(width)}   # ${what}`),
    'Other agents: ' + files.agents.slice(1).map(a => `${a.host} ${a.api}`).join(', '),
    `Logs: ${files.dir}/HOST/agent.log. Ctrl-C stops the agents and removes ${files.dir} (--keep keeps it).`
  ]
}

async function showTail (host: string, path: string, say: (line: string) => void): Promise<void> {
  const text = await readFile(path, 'utf8').catch(() => '')
  const lines = text.trimEnd().split('\n').slice(-LOG_TAIL)
  if (lines.length === 0 || lines[0] === '') return
  say(`--- ${host}: the end of ${path}`)
  for (const l of lines) say(l)
}
