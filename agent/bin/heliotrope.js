#!/usr/bin/env node
// The `heliotrope` command. Node (>= 22.18, or 24 as pinned) runs the
// TypeScript sources itself by type stripping: the code keeps to erasable
// syntax (tsconfig's erasableSyntaxOnly), so there is no build step and no
// loader. It routes each command to its home: daemon and operator
// commands live in agent/cli, offline tools and the lab in lab/cli. This
// launcher is the only place that knows both; agent/ never imports lab/.
//
// libp2p 3 needs Node >= 22. The requirement lives here, not in
// package.json's `engines`: npm printed its EBADENGINE warning (ten lines)
// before every `npx heliotrope` on a machine whose own Node is older, even
// though npx then ran the pinned Node 24. Started by an older Node directly,
// the launcher hands itself to the pinned one, or says what to do.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'

// Type stripping runs without a flag from Node 22.18 on.
const MIN_NODE = [22, 18]
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < MIN_NODE[0] || (major === MIN_NODE[0] && minor < MIN_NODE[1])) {
  const pinned = new URL('../../node_modules/node/bin/node', import.meta.url).pathname
  if (!existsSync(pinned)) {
    process.stderr.write(`heliotrope needs Node ${MIN_NODE.join('.')} or newer; this is ${process.version}. Run \`npm ci\` (it installs the pinned Node 24) or install Node >= ${MIN_NODE.join('.')}.\n`)
    process.exit(1)
  }
  const r = spawnSync(pinned, process.argv.slice(1), { stdio: 'inherit' })
  process.exit(r.status ?? 1)
}

const command = process.argv[2]
if (command === '--version' || command === '-V') {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'))
  process.stdout.write(`heliotrope ${pkg.version} (node ${process.versions.node})\n`)
  process.exit(0)
}

const LAB_COMMANDS = new Set(['lab', 'scenario', 'plan', 'demo'])
const entry = LAB_COMMANDS.has(command) ? '../../lab/cli/main.ts' : '../cli/main.ts'
const { main } = await import(new URL(entry, import.meta.url).href)
process.exitCode = await main(process.argv.slice(2))
