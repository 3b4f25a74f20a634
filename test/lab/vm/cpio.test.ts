import { execFile } from 'node:child_process'
import { requires } from '../../prerequisites.ts'
import { cpioArchive } from '../../../lab/vm/cpio.ts'
import { systemTool } from '../../../agent/host/system-tools.ts'

const test = await requires('test/lab/vm/cpio.test.ts', 'cpio')

test('cpio(1) lists the archive: directories, files, symlinks and device nodes', async t => {
  const archive = cpioArchive([
    { kind: 'dir', path: 'bin' },
    { kind: 'dir', path: 'dev' },
    { kind: 'chardev', path: 'dev/console', major: 5, minor: 1 },
    { kind: 'file', path: '/init', data: new TextEncoder().encode('#!/bin/sh\n'), mode: 0o755 },
    { kind: 'symlink', path: 'bin/sh', target: 'busybox' }
  ])
  t.is(archive.byteLength % 4, 0)
  const listing = await new Promise<string>((resolve, reject) => {
    const child = execFile(systemTool('cpio'), ['-itv', '--quiet'], { timeout: 10_000 }, (err, stdout) => { if (err === null) resolve(stdout); else reject(err) })
    child.stdin?.end(archive)
  })
  const lines = listing.trim().split('\n')
  t.is(lines.length, 5)
  t.regex(lines[0]!, /^drwxr-xr-x .* bin$/)
  t.regex(lines[2]!, /^crw------- .* 5,\s+1 .* dev\/console$/)
  t.regex(lines[3]!, /^-rwxr-xr-x .* 10 .* init$/)
  t.regex(lines[4]!, /^lrwxrwxrwx .* bin\/sh -> busybox$/)
})
