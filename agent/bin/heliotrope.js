#!/usr/bin/env node
// The `heliotrope` command. Node (>= 22.18, or 24 as pinned) runs the
// TypeScript sources itself by type stripping: the code keeps to erasable
// syntax (tsconfig's erasableSyntaxOnly), so there is no build step and no
// loader in a clone. The .deb ships them compiled to JavaScript instead
// (npm run package, docs/operations.md). It routes each command to its
// home: daemon and operator commands live in agent/cli, offline tools and
// the lab in lab/cli. This launcher is the only place that knows both;
// agent/ never imports lab/.
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

// Installed from the .deb (agent/packaging/build-deb.ts) the sources are
// compiled to JavaScript, and the lab is not there: the package holds the
// agent and the operator's commands only.
const ext = existsSync(new URL('../cli/main.js', import.meta.url)) ? '.js' : '.ts'
const LAB_COMMANDS = new Set(['lab', 'scenario', 'plan', 'demo', 'sandbox'])
const entry = new URL(LAB_COMMANDS.has(command) ? `../../lab/cli/main${ext}` : `../cli/main${ext}`, import.meta.url)
if (!existsSync(entry)) {
  process.stderr.write(`heliotrope ${command}: the lab's commands (${[...LAB_COMMANDS].join(', ')}) are not in this installation; run them from a clone of the repository (README, "Two commands").\n`)
  process.exit(1)
}
const { main } = await import(entry.href)
process.exitCode = await main(process.argv.slice(2))
