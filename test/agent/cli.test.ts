import test from 'ava'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { heliotrope } from './cli-run.ts'

test('`heliotrope agent` with a bad config names every bad field and exits 1', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'htcli-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  await writeFile(join(dir, 'config.json'), JSON.stringify({ cluster: 'Bad Name', host: 'h1', address: '10.0.0.1', capacity: { memoryMiB: -1, vcpus: 2 }, collector: { kind: 'magic' }, hypervisor: { kind: 'sim' }, colour: 'blue' }))
  const r = await heliotrope(['agent', '--config', join(dir, 'config.json')])
  t.is(r.code, 1)
  for (const needle of ['colour', 'cluster: expected lower-case', 'address: expected an IPv6 address, found "10.0.0.1"', 'capacity.memoryMiB', 'collector.kind', 'pskFile', 'sim is a lab-only driver: run it with the lab']) t.true(r.err.includes(needle), `missing ${needle} in:\n${r.err}`)
  const usage = await heliotrope(['agent'])
  t.is(usage.code, 2)
  t.regex(usage.err, /--config FILE is required/)
})
