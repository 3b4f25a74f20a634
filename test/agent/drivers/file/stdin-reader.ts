/** Helper process for collector.test.ts: a file collector on standard input; prints one read when stdin ends. */
import { FileCollector } from '../../../../agent/drivers/file/collector.ts'

const c = new FileCollector({}, { path: '-' })
await c.start()
await c.read(0)
process.stdout.write('started\n')
process.stdin.once('end', () => {
  void c.read(1_000).then(async s => {
    process.stdout.write(JSON.stringify({ deltas: s.deltas, malformed: c.stats.malformed }) + '\n')
    await c.stop()
  })
})
