/**
 * Code comments cite docs/design.md by section ("docs/design.md §4.2") or
 * anchor ("docs/design.md#invariant-5"); every cited section must exist.
 */
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import test from 'ava'

const root = fileURLToPath(new URL('../../', import.meta.url))

async function sources (dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(join(root, dir), { withFileTypes: true })) {
    const path = join(dir, e.name)
    if (e.isDirectory()) out.push(...await sources(path))
    else if (e.name.endsWith('.ts') || e.name.endsWith('.js')) out.push(path)
  }
  return out
}

test('every docs/design.md section or anchor cited from code exists', async t => {
  const design = await readFile(join(root, 'docs/design.md'), 'utf8')
  const anchors = new Set([...design.matchAll(/<a id="([^"]+)"><\/a>/g)].map(m => m[1]!))
  const cited: string[] = []
  const missing: string[] = []
  for (const dir of ['agent', 'lab', 'lib', 'test']) {
    for (const file of await sources(dir)) {
      const text = await readFile(join(root, file), 'utf8')
      if (!text.includes('docs/design.md')) continue
      for (const m of text.matchAll(/docs\/design\.md ?§(\d+(?:\.\d+)?)/g)) {
        const anchor = `s${m[1]!.replace('.', '-')}`
        cited.push(anchor)
        if (!anchors.has(anchor)) missing.push(`${file}: §${m[1]!}`)
      }
      for (const m of text.matchAll(/#(invariant-\d+|s\d+(?:-\d+)?)\b/g)) {
        cited.push(m[1]!)
        if (!anchors.has(m[1]!)) missing.push(`${file}: #${m[1]!}`)
      }
    }
  }
  t.true(cited.length > 0)
  t.deepEqual(missing, [])
})
