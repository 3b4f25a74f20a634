/**
 * Runs one lab migration the way an agent does it: from inside the source
 * host's namespace (`ip netns exec SRC node THIS DIR SRC VM DST`),
 * with the target's prepareIncoming answer. Prints the MigrationResult as JSON.
 */
import { LabHypervisor } from '../../lab/drivers/lab-host/driver.ts'
import { readLabState } from '../../lab/drivers/lab-host/state.ts'

const [dir, src, vm, dst] = process.argv.slice(2) as [string, string, string, string]
const state = await readLabState(dir)
const source = new LabHypervisor({ host: src, address: state.hosts[src]!.address }, { dir })
const target = new LabHypervisor({ host: dst, address: state.hosts[dst]!.address }, { dir })
await source.start()
await target.start()
const info = (await source.list()).find(v => v.id === vm)
if (info === undefined) throw new Error(`${vm} is not on ${src}`)
const result = await source.migrate(vm, await target.prepareIncoming(info), { deadlineMs: 10_000 })
process.stdout.write(JSON.stringify(result) + '\n')
