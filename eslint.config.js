// ESLint: a small rule set (the recommended ones, not type-checked: tsc
// already checks types) plus the layering the design relies on, enforced
// rather than remembered:
//   lib/    pure: imports only lib/ and cborg
//   agent/  never imports lab/ or test/
//   lab/    never imports test/
//   test/   may import anything; nothing else imports test/
// Only static imports and `export ... from` are checked. The one dynamic
// crossing is deliberate: agent/bin/heliotrope.js, the launcher, loads
// lab/cli/main.ts for the lab's commands (see its header).
import js from '@eslint/js'
import { defineConfig } from 'eslint/config'
import tseslint from 'typescript-eslint'

// A relative path that climbs to the top and enters one of these
// directories. No directory inside agent/, lab/ or lib/ has one of these
// names, so climbing fewer levels cannot match by accident.
const into = (...dirs) => `^(\\.\\./)+(${dirs.join('|')})/`

const noTest = {
  regex: into('test'),
  message: 'Only test/ imports test/: move what is shared out of test/.',
}

// lib/ is pure: no I/O, no clocks, no libp2p (docs/design.md). Today it
// imports nothing but itself and cborg (CBOR encoding, pure), so an
// allowlist says it exactly: every node: built-in (fs, net, timers,
// perf_hooks, even crypto, since lib takes digests from the agent rather
// than hashing) and every network package falls outside it. A new pure
// package joins the allowlist deliberately, here.
const libPure = [
  {
    regex: into('agent', 'lab'),
    message: 'lib/ is the pure core: it never imports agent/ or lab/.',
  },
  {
    regex: '^(?!\\.\\.?/|cborg$)',
    message: 'lib/ is pure (no I/O, no clocks, no libp2p): it imports only lib/ and cborg. Node built-ins and network packages belong in agent/.',
  },
  noTest,
]

const agentOwn = [
  {
    regex: into('lab'),
    message: 'agent/ never imports lab/: the lab drives the agent, not the reverse.',
  },
  noTest,
]

// In flat config a later block's options replace an earlier one's for the
// same rule, so each directory's block carries its whole list.
const restrict = (patterns) => ({ 'no-restricted-imports': ['error', { patterns }] })

export default defineConfig(
  { ignores: ['out/**', 'reports/**'] },
  // A disable comment that no longer silences anything is stale: fail on it.
  { linterOptions: { reportUnusedDisableDirectives: 'error' } },
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    rules: {
      // A leading underscore marks a parameter an interface requires but
      // this implementation ignores, or a value drained on purpose.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
      // Cleanup paths swallow errors on purpose (a process already gone).
      'no-empty': ['error', { allowEmptyCatch: true }],
    },
  },
  {
    // The launcher is the only plain JavaScript: it runs under Node.
    files: ['**/*.js'],
    languageOptions: { globals: { process: 'readonly', URL: 'readonly' } },
  },
  { rules: restrict([noTest]) },
  { files: ['lib/**'], rules: restrict(libPure) },
  { files: ['agent/**'], rules: restrict(agentOwn) },
  { files: ['test/**'], rules: { 'no-restricted-imports': 'off' } },
)
