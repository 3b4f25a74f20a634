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
