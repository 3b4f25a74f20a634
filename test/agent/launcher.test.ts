/**
 * The launcher prints only its own output, whatever Node started it: npx
 * (the system's npm, on the system's Node) printed ten lines of EBADENGINE
 * warnings before every `npx heliotrope` on a Node 20 machine; an older Node
 * starting the launcher directly is handed to the pinned Node 24. Node runs
 * the sources itself: no loader.
 */
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { promisify } from 'node:util'
import test from 'ava'

const run = promisify(execFile)
const ROOT = new URL('../../', import.meta.url).pathname
const BIN = new URL('../../agent/bin/heliotrope.js', import.meta.url).pathname
const PINNED_NODE = new URL('../../node_modules/node/bin/node', import.meta.url).pathname
const VERSION = /^heliotrope \d+\.\d+\.\d+ \(node 2[2-9]\.|^heliotrope \d+\.\d+\.\d+ \(node [3-9]\d\./

test('npx heliotrope --version: its own line on stdout, nothing on stderr', async t => {
  // The system's npx, as a user types it; PATH without node_modules/.bin so npm itself runs on the system's Node.
  const path = (process.env.PATH ?? '').split(':').filter(d => !d.includes('node_modules')).join(':')
  const r = await run('npx', ['--no-install', 'heliotrope', '--version'], { cwd: ROOT, env: { ...process.env, PATH: path }, timeout: 60_000 })
  t.regex(r.stdout, VERSION)
  t.is(r.stderr, '')
})

test('a Node older than 22 starting the launcher hands it to the pinned Node', async t => {
  // /usr/bin/node is the machine's own Node where one is installed (Debian's, or NodeSource's).
  const system = ['/usr/bin/node', '/usr/local/bin/node'].find(p => existsSync(p))
  if (system === undefined) { t.log('no system Node here: checking the pinned one only') }
  const r = await run(system ?? PINNED_NODE, [BIN, '--version'], { timeout: 60_000 })
  t.regex(r.stdout, VERSION)
  t.is(r.stderr, '')
})

test('the launcher runs the TypeScript sources with no loader: tsx is not installed and `heliotrope agent --help` answers', async t => {
  // Node strips the types itself (the code is erasable syntax only); a loader would cost every agent process CPU and a dependency.
  t.false(existsSync(new URL('../../node_modules/tsx', import.meta.url)), 'tsx is installed again: nothing should need it')
  const r = await run(PINNED_NODE, [BIN, 'agent', '--help'], { timeout: 60_000 })
  t.regex(r.stdout, /--config/)
  t.is(r.stderr, '')
})
