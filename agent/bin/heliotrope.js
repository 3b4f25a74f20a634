#!/usr/bin/env node
// The `heliotrope` command. It runs the TypeScript sources through tsx (no
// build step) and routes each command to its home: daemon and operator
// commands live in agent/cli, offline tools and the lab in lab/cli. This
// launcher is the only place that knows both; agent/ never imports lab/.
import { register } from 'tsx/esm/api'

register()
const LAB_COMMANDS = new Set(['lab', 'scenario', 'plan', 'demo'])
const command = process.argv[2]
const entry = LAB_COMMANDS.has(command) ? '../../lab/cli/main.ts' : '../cli/main.ts'
const { main } = await import(new URL(entry, import.meta.url).href)
process.exitCode = await main(process.argv.slice(2))
