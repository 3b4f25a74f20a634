/**
 * The sim world's directory listing is cached by the directory's mtime: two
 * SimWorlds on one directory stand for agents in two processes.
 */
import test from 'ava'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { SimWorld, type SimVm } from '../../../../lab/drivers/sim-host/world.ts'

const vm = (id: string, host: string): SimVm => ({ id, host, memoryMiB: 512, vcpus: 1, addresses: [`fd00::${id.slice(2)}`] })
const hosts = async (w: SimWorld): Promise<Record<string, string>> => Object.fromEntries((await w.vms()).map(v => [v.id, v.host]))
const settle = async (): Promise<void> => { await new Promise(resolve => setTimeout(resolve, 150)) }

test('a move written by another process is seen at once, cached listing or not', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ht-simworld-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const a = new SimWorld(dir)
  const b = new SimWorld(dir)
  await a.init([vm('vm1', 'h1'), vm('vm2', 'h1')], { flows: [], prefixes: [] })
  await settle()
  t.deepEqual(await hosts(a), { vm1: 'h1', vm2: 'h1' }) // kept: the directory was quiet
  await b.write(vm('vm1', 'h2'))
  t.deepEqual(await hosts(a), { vm1: 'h2', vm2: 'h1' })
  // Right after a write (same clock tick, maybe): not kept, so the next write shows too.
  await b.write(vm('vm1', 'h3'))
  t.deepEqual(await hosts(a), { vm1: 'h3', vm2: 'h1' })
  await b.write(vm('vm2', 'h3'))
  t.deepEqual(await hosts(a), { vm1: 'h3', vm2: 'h3' })
})

test('the listing is kept while the directory is unchanged, and handed out as copies', async t => {
  const dir = await mkdtemp(join(tmpdir(), 'ht-simworld-'))
  t.teardown(async () => rm(dir, { recursive: true, force: true }))
  const a = new SimWorld(dir)
  await a.init([vm('vm1', 'h1')], { flows: [], prefixes: [] })
  await settle()
  const first = await a.vms()
  first[0]!.host = 'changed by the caller'
  t.is((await a.vms())[0]!.host, 'h1')
  // Rewriting a file in place (not through write(), which renames) leaves the
  // directory's mtime alone: the kept listing is what comes back, to every
  // SimWorld of this process (a lab process's agents share it). This is why
  // every writer goes through write().
  await writeFile(join(dir, 'vms', 'vm1.json'), JSON.stringify(vm('vm1', 'h9')))
  t.is((await a.vms())[0]!.host, 'h1')
  t.is((await new SimWorld(dir).vms())[0]!.host, 'h1', 'one listing per directory in a process')
  // A write through any of them is seen by all at once.
  await new SimWorld(dir).write(vm('vm1', 'h7'))
  t.is((await a.vms())[0]!.host, 'h7')
})
