/**
 * Finding real Debian tools: by absolute path, each asked for its version,
 * a lookalike (ava's @vercel/nft `nft` in node_modules/.bin) named and
 * skipped, PATH entries under node_modules never searched.
 */
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import test from 'ava'
import { candidatePaths, lookupTool, TOOLS } from '../../../agent/host/system-tools.ts'
import { checkTool } from '../../../agent/doctor/system-checks.ts'

/** A directory with an executable `name` that prints `says` for any arguments. */
async function toolDir (t: { teardown: (f: () => Promise<void>) => void }, name: string, says: string, sub = ''): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'htdoc-'))
  t.teardown(() => rm(root, { recursive: true, force: true }))
  const dir = join(root, sub)
  await mkdir(dir, { recursive: true })
  await writeFile(join(dir, name), `#!/bin/sh\necho ${JSON.stringify(says)}\n`)
  await chmod(join(dir, name), 0o755)
  return dir
}

test('the real tool is found by its version answer, after a lookalike that is named and skipped', async t => {
  const fake = await toolDir(t, 'nft', 'nft 0.24.0 (node file trace)')
  const real = await toolDir(t, 'nft', 'nftables v1.0.6 (Lester Gooch #5)')
  const r = lookupTool(TOOLS.nft, { dirs: [fake, real] })
  t.true(r.found)
  if (!r.found) return
  t.is(r.path, join(real, 'nft'))
  t.is(r.version, 'nftables v1.0.6 (Lester Gooch #5)')
  t.deepEqual(r.lookalikes, [`${join(fake, 'nft')} (says "nft 0.24.0 (node file trace)")`])
})

test('only a lookalike: not found, the lookalike named, the package to install said', async t => {
  const fake = await toolDir(t, 'nft', 'nft 0.24.0 (node file trace)')
  const r = lookupTool(TOOLS.nft, { dirs: [fake, '/nonexistent'] })
  t.false(r.found)
  if (r.found) return
  t.regex(r.reason, /^nft not found in .*\/nonexistent; not nftables: .*nft \(says "nft 0\.24\.0/)
  t.regex(r.reason, /apt-get install nftables\)$/)
  const check = checkTool('nft', { id: 'nftables', dirs: [fake] })
  t.is(check.status, 'fail')
  t.is(check.fix, 'apt-get install nftables')
})

test('PATH entries under node_modules are never searched', async t => {
  const bin = await toolDir(t, 'nft', 'nftables v9.9.9', 'node_modules/.bin')
  const saved = process.env.PATH
  t.teardown(() => { process.env.PATH = saved })
  process.env.PATH = `${bin}:/usr/bin`
  const paths = candidatePaths('nft')
  t.false(paths.some(p => p.includes('node_modules')), paths.join(' '))
  t.true(paths.includes('/usr/sbin/nft'), 'the system directories come first')
})

test('a binary that prints nothing or cannot run is a lookalike, not the tool', async t => {
  const silent = await toolDir(t, 'tmux', '')
  const r = lookupTool(TOOLS.tmux, { dirs: [silent] })
  t.false(r.found)
  t.is(r.lookalikes.length, 1)
})
