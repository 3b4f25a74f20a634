/**
 * agent/config.schema.json and agent/config.ts must agree. The parser's own
 * word is read by probing it: an unknown field at any level makes it list
 * the fields it knows there, and a bad choice makes it list the choices.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { parseConfig } from '../../../agent/config.ts'
import { ValidationError } from '../../../lib/errors.ts'

interface Schema { properties?: Record<string, Schema>, required?: string[], oneOf?: Schema[], enum?: unknown[], const?: unknown, default?: unknown, items?: Schema, additionalProperties?: boolean }
const schema = JSON.parse(readFileSync(new URL('../../../agent/config.schema.json', import.meta.url), 'utf8')) as Schema

const BASE: Record<string, unknown> = {
  cluster: 'prod', host: 'h1', dc: 'A', pskFile: '/p', members: [{ host: 'h1', peerId: 'P1' }], topologyFile: '/t', address: 'fd00::1',
  capacity: { memoryMiB: 4096, vcpus: 4 }, collector: { kind: 'file', path: '/f' }, hypervisor: { kind: 'xen' },
  planner: { weights: {} }, safety: {}
}

function issue (config: unknown, path: string): string | undefined {
  try { parseConfig(config) } catch (err) {
    if (err instanceof ValidationError) return err.issues.find(i => i.path === path)?.expected
    throw err
  }
  return undefined
}

/** Sets `value` at a dotted path (with [0] for arrays) in a deep copy of `base`. */
function withValue (base: unknown, path: string[], value: unknown): unknown {
  const copy = structuredClone(base) as Record<string, unknown>
  let o: Record<string, unknown> = copy
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>
  o[path.at(-1)!] = value
  return copy
}

function knownKeys (base: unknown, at: string[]): string[] {
  const dotted = at.join('.').replace(/\.(\d+)/g, '[$1]')
  const probe = withValue(base, [...at, '__probe__'], 1)
  const expected = issue(probe, dotted === '' ? '__probe__' : `${dotted}.__probe__`)
  if (expected === undefined) throw new Error(`the parser took an unknown field at ${dotted}`)
  return expected.replace(/^one of the fields /, '').split(', ').sort()
}

function choices (base: unknown, at: string[]): string[] {
  const expected = issue(withValue(base, at, '__nope__'), at.join('.'))
  return [...(expected ?? '').matchAll(/"([^"]+)"/g)].map(m => m[1]!).sort()
}

const keysOf = (s: Schema): string[] => Object.keys(s.properties ?? {}).sort()

test('every field the parser knows is in the schema, and the schema has no field the parser refuses', t => {
  const P = schema.properties!
  const objects: Array<[string[], Schema, unknown]> = [
    [[], schema, BASE],
    [['capacity'], P.capacity!, BASE],
    [['planner'], P.planner!, BASE],
    [['planner', 'weights'], P.planner!.properties!.weights!, BASE],
    [['members', '0'], P.members!.items!, BASE],
    [['safety'], P.safety!, BASE],
    [['api'], P.api!, { ...BASE, api: {} }]
  ]
  for (const kind of ['collector', 'hypervisor']) {
    const variants = P[kind]!.oneOf!
    t.deepEqual(choices(BASE, [kind, 'kind']), variants.map(v => String(v.properties!.kind!.const)).sort(), `${kind}.kind`)
    for (const v of variants) {
      const k = String(v.properties!.kind!.const)
      const example = withValue(BASE, [kind], Object.fromEntries((v.required ?? []).map(r => [r, r === 'kind' ? k : r === 'platformPrefixes' ? [] : '/x'])))
      objects.push([[kind], v, example])
    }
  }
  const qemu = P.hypervisor!.oneOf!.find(v => v.properties!.kind!.const === 'qemu')!
  objects.push([['hypervisor', 'migration'], qemu.properties!.migration!, { ...BASE, hypervisor: { kind: 'qemu', dir: '/x', migration: {} } }])
  for (const [at, s, base] of objects) {
    t.deepEqual(knownKeys(base, at), keysOf(s), `fields of ${at.join('.') || '(top)'}`)
    t.false(s.additionalProperties !== false, `${at.join('.') || '(top)'} forbids unknown fields, as the parser does`)
  }
  t.deepEqual(choices(BASE, ['mode']), [...P.mode!.enum as string[]].sort())
  t.deepEqual(choices(BASE, ['planner', 'name']), [...P.planner!.properties!.name!.enum as string[]].sort())
})

test('the schema\'s required fields are the ones the parser misses, and its defaults are the parser\'s', t => {
  for (const key of schema.required!) t.truthy(issue({ ...BASE, [key]: undefined }, key), `${key} is required by the parser too`)
  for (const key of Object.keys(schema.properties!).filter(k => !schema.required!.includes(k) && !(k in BASE))) {
    t.is(issue({ ...BASE }, key), undefined, `${key} is optional for the parser too`)
  }
  const parsed = parseConfig(BASE) as unknown as Record<string, unknown>
  const walk = (s: Schema, value: Record<string, unknown>, path: string): void => {
    for (const [k, p] of Object.entries(s.properties ?? {})) {
      if (p.default !== undefined && !(typeof p.default === 'object' && p.default !== null && !Array.isArray(p.default))) t.deepEqual(value[k], p.default, `default of ${path}${k}`)
      if (p.properties !== undefined && typeof value[k] === 'object') walk(p, value[k] as Record<string, unknown>, `${path}${k}.`)
    }
  }
  walk(schema, parsed, '')
})
