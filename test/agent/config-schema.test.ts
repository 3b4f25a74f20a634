/**
 * agent/config.schema.json is made from the config's one definition
 * (agent/config.ts): the committed file must be what the definition makes
 * now, and the definition's errors name the bad field.
 */
import test from 'ava'
import { readFileSync } from 'node:fs'
import { parseConfig } from '../../agent/config.ts'
import { CONFIG_SCHEMA_FILE, configJsonSchema, configJsonSchemaText } from '../../agent/config-json-schema.ts'
import { LAB_DRIVERS } from '../../lab/drivers/index.ts'
import { ValidationError, type Issue } from '../../lib/errors.ts'
import { minimalConfig } from '../config-fixture.ts'

interface Schema { properties?: Record<string, Schema>, oneOf?: Schema[], const?: unknown }

test('the committed agent/config.schema.json is the one the definition makes (run `npm run schema` after changing it)', t => {
  t.is(readFileSync(CONFIG_SCHEMA_FILE, 'utf8'), configJsonSchemaText())
})

test('the schema lists the registry\'s driver kinds: production\'s in the file, the lab\'s added in the lab\'s', t => {
  const kinds = (s: Record<string, unknown>, section: string): unknown[] => ((s as Schema).properties![section]!.oneOf ?? []).map(v => v.properties!.kind!.const)
  const production = configJsonSchema()
  t.deepEqual(kinds(production, 'hypervisor'), ['qemu', 'libvirt', 'xen'])
  t.deepEqual(kinds(production, 'collector'), ['nftables', 'file'])
  const lab = configJsonSchema(LAB_DRIVERS)
  t.deepEqual(kinds(lab, 'hypervisor'), ['qemu', 'libvirt', 'xen', 'sim', 'lab'])
  t.deepEqual(kinds(lab, 'collector'), ['nftables', 'file', 'sim'])
})

function issues (config: unknown): Issue[] {
  const err = (() => { try { parseConfig(config) } catch (e) { return e } return undefined })()
  if (err instanceof ValidationError) return err.issues
  throw new Error(`expected a ValidationError, got ${String(err)}`)
}

test('bad configs: each issue names the field, what was expected and what was found', t => {
  t.deepEqual(issues(minimalConfig({ capacity: { memoryMiB: 0, vcpus: 2 } })), [{ path: 'capacity.memoryMiB', expected: 'a number above 0', found: '0' }])
  t.deepEqual(issues(minimalConfig({ members: [{ host: 'h1' }] })), [{ path: 'members[0].peerId', expected: 'a string', found: 'nothing' }])
  t.deepEqual(issues(minimalConfig({ listen: ['/ip6/::/tcp/1', ''] })), [{ path: 'listen[1]', expected: 'a non-empty string', found: '""' }])
  t.deepEqual(issues(minimalConfig({ collector: { kind: 'nftables', platformPrefixes: ['fd00::1/200'] } })), [{ path: 'collector.platformPrefixes[0]', expected: 'an IPv6 prefix such as "fd00::/8"', found: '"fd00::1/200"' }])
  t.deepEqual(issues(minimalConfig({ hypervisor: { dir: '/x' } })), [{ path: 'hypervisor.kind', expected: 'one of "qemu", "libvirt", "xen"', found: 'nothing' }])
  t.deepEqual(issues(minimalConfig({ planner: { name: 'greedy', weights: { wan: 1 } } })), [
    { path: 'planner.name', expected: 'one of "thesis", "lookahead"', found: '"greedy"' },
    { path: 'planner.weights.wan', expected: 'one of the fields bandwidth, latency, price, dcLoad, migration', found: '"wan"' }
  ])
  t.deepEqual(issues([]), [{ path: '', expected: 'an object', found: 'an array of 0' }])
})

test('an unknown top-level field close to a known one asks "did you mean"; one far from all lists the fields', t => {
  t.deepEqual(issues(minimalConfig({ planer: {} })), [{ path: 'planer', expected: 'a known field (did you mean planner?)', found: '"planer"' }])
  t.deepEqual(issues(minimalConfig({ stateDirs: '/x' })), [{ path: 'stateDirs', expected: 'a known field (did you mean stateDir?)', found: '"stateDirs"' }])
  const far = issues(minimalConfig({ colour: 'blue' }))
  t.is(far.length, 1)
  t.regex(far[0]!.expected, /^one of the fields cluster, host, dc, .*, api, dissemination, dhtServersPerDc, logLevel$/)
})

test('the rules across fields are checked along with the rest, even beside a value that is not an integer', t => {
  const found = issues(minimalConfig({ roundPeriodMs: 1.5, members: [{ host: 'h2', peerId: 'p2' }], api: { listen: '::', port: 1.5 } })).map(i => i.path).sort()
  t.deepEqual(found, ['api.listen', 'api.port', 'members', 'roundPeriodMs'])
})
