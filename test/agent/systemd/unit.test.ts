import test from 'ava'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)
const UNIT = new URL('../../../agent/systemd/heliotrope.service', import.meta.url).pathname
const LAUNCHER = new URL('../../../agent/bin/heliotrope.js', import.meta.url).pathname
/** What `systemd-analyze security` may score the unit at most (docs/operations.md quotes the score). */
const MAX_EXPOSURE = 3.0

/** The unit as installed would run /usr/local/bin/heliotrope; verify checks the binary exists, so point it at this checkout. */
async function unitHere (t: { teardown (fn: () => Promise<void>): void }): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'htunit-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const path = join(dir, 'heliotrope.service')
  await writeFile(path, (await readFile(UNIT, 'utf8')).replaceAll('/usr/local/bin/heliotrope', LAUNCHER))
  return path
}

test('the systemd unit passes systemd-analyze verify', async t => {
  const path = await unitHere(t)
  const r = await run('systemd-analyze', ['verify', path]).catch((err: { stderr?: string, code?: number }) => ({ stdout: '', stderr: `exit ${err.code}: ${err.stderr ?? ''}` }))
  t.is(r.stderr.trim(), '', r.stderr)
})

test('the unit is hardened: notify readiness, restart on failure, a narrow capability set, and a low systemd-analyze security exposure', async t => {
  const text = await readFile(UNIT, 'utf8')
  for (const line of ['Type=notify', 'NotifyAccess=all', 'Restart=on-failure', 'NoNewPrivileges=yes', 'ProtectSystem=strict', 'ProtectHome=yes', 'StateDirectory=heliotrope', 'CapabilityBoundingSet=CAP_NET_ADMIN', 'KillMode=process']) {
    t.true(text.split('\n').includes(line), `missing ${line}`)
  }
  const { stdout } = await run('systemd-analyze', ['security', '--offline=yes', await unitHere(t)])
  const score = Number(/Overall exposure level for .*: ([\d.]+)/.exec(stdout)?.[1])
  t.log(`systemd-analyze security: exposure ${score}`)
  t.true(score <= MAX_EXPOSURE, `exposure ${score} > ${MAX_EXPOSURE}`)
})

test('systemctl reload checks the file, then sends the agent SIGHUP; the unit fixes no log level, so the config\'s logLevel decides and a reload can change it', async t => {
  const lines = (await readFile(UNIT, 'utf8')).split('\n')
  const reloads = lines.filter(l => l.startsWith('ExecReload='))
  t.deepEqual(reloads, ['ExecReload=/usr/local/bin/heliotrope config check /etc/heliotrope/config.json', 'ExecReload=/bin/kill -HUP $MAINPID'])
  t.false(lines.some(l => l.startsWith('ExecStart=') && l.includes('--log-level')))
})

/** The system calls of a systemd-analyze group, its nested groups expanded. */
async function syscallsOf (group: string, seen = new Set<string>()): Promise<Set<string>> {
  const names = new Set<string>()
  if (seen.has(group)) return names
  seen.add(group)
  const lines = (await run('systemd-analyze', ['syscall-filter', group])).stdout.split('\n')
  // The group's name, then its members indented, comments (#) among them, a blank line after.
  for (const line of lines.slice(lines.indexOf(group) + 1)) {
    const name = line.trim()
    if (name === '') break
    if (name.startsWith('@')) for (const n of await syscallsOf(name, seen)) names.add(n)
    else if (!name.startsWith('#')) names.add(name)
  }
  return names
}

test('KillMode=process keeps the guests across a restart; the drivers\' children die with the agent: setpriv\'s prctl and the process groups\' setsid pass the syscall filter', async t => {
  const text = await readFile(UNIT, 'utf8')
  t.true(text.split('\n').includes('KillMode=process'))
  // The unit says why, and where the children are handled.
  t.regex(text, /setpriv\s+#?\s*--pdeathsig/)
  t.regex(text, /agent\/drivers\/command\.ts/)
  // What the runner needs from the kernel, against the unit's own filter: allowed by the
  // first SystemCallFilter line, denied by none of the ~ groups.
  const allow = /^SystemCallFilter=(@[\w-]+)$/m.exec(text)?.[1]
  const deny = /^SystemCallFilter=~(.+)$/m.exec(text)?.[1]?.split(/\s+/) ?? []
  t.is(allow, '@system-service')
  const allowed = await syscallsOf(allow!)
  const denied = new Set((await Promise.all(deny.map(async g => [...await syscallsOf(g)]))).flat())
  for (const call of ['prctl', 'setsid', 'kill']) t.true(allowed.has(call) && !denied.has(call), `${call} passes the unit's filter`)
})
