/**
 * The layering in eslint.config.js, shown on code that is not in the tree:
 * ESLint lints each snippet as if it lived at the given path. It sits at the
 * top of test/ because it is about the whole tree, not one layer.
 */
import { fileURLToPath } from 'node:url'
import test from 'ava'
import { ESLint } from 'eslint'

const eslint = new ESLint({ cwd: fileURLToPath(new URL('..', import.meta.url)) })

/** The import-boundary complaints (one per offending import) for `code` placed at `filePath`. */
async function crossings (filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  if (result === undefined) throw new Error(`ESLint returned nothing for ${filePath}`)
  const fatal = result.messages.filter(m => m.fatal === true)
  if (fatal.length > 0) throw new Error(`${filePath} does not parse: ${fatal.map(m => m.message).join('; ')}`)
  return result.messages.filter(m => m.ruleId === 'no-restricted-imports').map(m => m.message)
}

test('lib/ importing agent/ is an error, also from a subdirectory and as a type or a re-export', async t => {
  t.regex((await crossings('lib/x.ts', "import { type Logger } from '../agent/log.ts'\nexport type L = Logger\n")).join(), /lib\/ is the pure core/)
  t.is((await crossings('lib/planners/x.ts', "import type { Logger } from '../../agent/log.ts'\nexport type L = Logger\n")).length, 1)
  t.is((await crossings('lib/x.ts', "export { main } from '../lab/cli/main.ts'\n")).length, 1)
})

test('lib/ importing node built-ins or libp2p is an error', async t => {
  const found = await crossings('lib/x.ts', [
    "import { createHash } from 'node:crypto'",
    "import { readFile } from 'fs/promises'",
    "import { peerIdFromString } from '@libp2p/peer-id'",
    "import { createLibp2p } from 'libp2p'",
    'export { createHash, readFile, peerIdFromString, createLibp2p }',
  ].join('\n'))
  t.is(found.length, 4)
  for (const m of found) t.regex(m, /lib\/ is pure/)
})

test('agent/ importing lab/ or test/ is an error', async t => {
  t.regex((await crossings('agent/x.ts', "export { main } from '../lab/cli/main.ts'\n")).join(), /agent\/ never imports lab\//)
  t.is((await crossings('agent/drivers/qemu/x.ts', "export { main } from '../../../lab/cli/main.ts'\n")).length, 1)
  t.regex((await crossings('agent/x.ts', "export { missing } from '../test/prerequisites.ts'\n")).join(), /Only test\/ imports test\//)
})

test('lab/ importing test/ is an error', async t => {
  t.regex((await crossings('lab/x.ts', "export { missing } from '../test/prerequisites.ts'\n")).join(), /Only test\/ imports test\//)
  t.is((await crossings('lab/sim/x.ts', "export { missing } from '../../test/prerequisites.ts'\n")).length, 1)
})

test('the legal directions pass', async t => {
  t.deepEqual(await crossings('lib/x.ts', "export { MaxHeap } from './heap.ts'\nexport { encode } from 'cborg'\n"), [])
  t.deepEqual(await crossings('lib/planners/x.ts', "export { MaxHeap } from '../heap.ts'\n"), [])
  t.deepEqual(await crossings('agent/x.ts', "export { MaxHeap } from '../lib/heap.ts'\nexport { createServer } from 'node:net'\nexport { peerIdFromString } from '@libp2p/peer-id'\n"), [])
  t.deepEqual(await crossings('lab/x.ts', "export { MaxHeap } from '../lib/heap.ts'\nexport type { Logger } from '../agent/log.ts'\n"), [])
  t.deepEqual(await crossings('test/lib/x.test.ts', "export { missing } from '../prerequisites.ts'\nexport { main } from '../../lab/cli/main.ts'\n"), [])
})
