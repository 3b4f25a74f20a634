/**
 * The .deb `npm run package` builds (agent/packaging/build-deb.ts): what it
 * holds, what it declares, and that its tree runs wherever it is unpacked,
 * with no TypeScript left to strip. Building takes one to three minutes on
 * 2 cores (xz over the Node binary, most of it), so the file builds once, into
 * a temporary directory; HELIOTROPE_DEB=path/to/heliotrope_*.deb checks a
 * package built already instead.
 */
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { requires } from '../../prerequisites.ts'

const run = promisify(execFile)
const REPO = new URL('../../../', import.meta.url).pathname
const PINNED_NODE = join(REPO, 'node_modules/node/bin/node')
/** A build compiles with tsc and compresses ~170 MB with xz on one thread: minutes, not seconds, on a shared 2-core host. */
const BUILD_TIMEOUT_MS = 10 * 60_000
/** Starting the packaged Node on the whole module graph (libp2p included): well under a second here; generous for a loaded host. */
const RUN_TIMEOUT_MS = 60_000

const test = await requires('test/agent/packaging/deb.test.ts', 'systemd-analyze')
const pkg = JSON.parse(await readFile(join(REPO, 'package.json'), 'utf8')) as { version: string, dependencies: Record<string, string>, devDependencies: Record<string, string> & { node: string } }

let work = ''
let deb = ''
/** The package unpacked (dpkg-deb -x) into work/root. */
let root = ''
let contents: string[] = []

test.before(async () => {
  work = await mkdtemp(join(tmpdir(), 'htdeb-'))
  if (process.env.HELIOTROPE_DEB !== undefined) deb = process.env.HELIOTROPE_DEB
  // gzip -1: this test reads the contents, and xz spent 65 of the build's 85 s compressing the Node binary.
  else deb = (await run(PINNED_NODE, [join(REPO, 'agent/packaging/build-deb.ts'), '--out', work, '--compression', 'gzip'], { cwd: REPO, timeout: BUILD_TIMEOUT_MS })).stdout.trim()
  root = join(work, 'root')
  await run('dpkg-deb', ['-x', deb, root])
  // Lines of `dpkg-deb --contents` end in the path, "./usr/bin/heliotrope"; links would end in "-> target".
  contents = (await run('dpkg-deb', ['--contents', deb], { maxBuffer: 64 << 20 })).stdout.trim().split('\n').map(l => l.slice(l.indexOf('./') + 1))
})
test.after.always(async () => { if (work !== '') await rm(work, { recursive: true, force: true }) })

const field = async (name: string): Promise<string> => (await run('dpkg-deb', ['--field', deb, name])).stdout.trim()

test('it holds /usr/bin/heliotrope, the unit, the pinned Node with its licence, the agent as JavaScript and the production dependencies', t => {
  for (const path of ['/usr/bin/heliotrope', '/lib/systemd/system/heliotrope.service', '/usr/lib/heliotrope/node/bin/node', '/usr/lib/heliotrope/node/LICENSE',
    '/usr/lib/heliotrope/agent/bin/heliotrope.js', '/usr/lib/heliotrope/agent/cli/main.js', '/usr/lib/heliotrope/agent/daemon.js', '/usr/lib/heliotrope/package.json',
    '/usr/share/doc/heliotrope/copyright']) {
    t.true(contents.includes(path), `missing ${path}`)
  }
  for (const name of Object.keys(pkg.dependencies)) t.true(contents.includes(`/usr/lib/heliotrope/node_modules/${name}/package.json`), `missing dependency ${name}`)
})

test('no devDependencies, no lab, no tests, and no TypeScript file at all', t => {
  for (const name of Object.keys(pkg.devDependencies)) {
    t.false(contents.some(p => p.startsWith(`/usr/lib/heliotrope/node_modules/${name}/`)), `devDependency ${name} is in the package`)
  }
  t.false(contents.some(p => /^\/usr\/lib\/heliotrope\/(lab|test)\//.test(p)), 'lab/ or test/ is in the package')
  t.deepEqual(contents.filter(p => /\.[cm]?ts$/.test(p)), [])
})

test('the control file: version from package.json, this machine\'s architecture, what the Node binary and the agent need, and the hypervisors as suggestions', async t => {
  t.is(await field('Package'), 'heliotrope')
  t.is(await field('Version'), pkg.version)
  t.is(await field('Architecture'), (await run('dpkg', ['--print-architecture'])).stdout.trim())
  const depends = (await field('Depends')).split(/,\s*/)
  for (const d of ['libc6 (>= 2.28)', 'libstdc++6 (>= 5.2)', 'systemd', 'nftables']) t.true(depends.includes(d), `Depends lacks ${d}: ${depends.join(', ')}`)
  t.regex(await field('Suggests'), /qemu-system-x86.*libvirt-clients.*xen-utils/)
  t.regex(await field('Description'), new RegExp(`Node\\.js ${pkg.devDependencies.node.replaceAll('.', '\\.')}`))
})

test('the unit runs /usr/bin/heliotrope, passes systemd-analyze verify, and the maintainer scripts never enable or start it', async t => {
  const unit = await readFile(join(root, 'lib/systemd/system/heliotrope.service'), 'utf8')
  t.false(unit.includes('/usr/local/bin'))
  t.true(unit.split('\n').includes('ExecStart=/usr/bin/heliotrope agent --config /etc/heliotrope/config.json'))
  // verify checks that the Exec binaries exist: point them at the unpacked wrapper.
  const here = join(work, 'heliotrope.service')
  await writeFile(here, unit.replaceAll('/usr/bin/heliotrope', join(root, 'usr/bin/heliotrope')))
  const r = await run('systemd-analyze', ['verify', here]).catch((err: { stderr?: string, code?: number }) => ({ stderr: `exit ${err.code}: ${err.stderr ?? ''}` }))
  t.is(r.stderr.trim(), '', r.stderr)
  const control = join(work, 'control')
  await run('dpkg-deb', ['--control', deb, control])
  for (const script of ['postinst', 'prerm', 'postrm']) {
    // The commands, not the comments or what postinst tells the operator to run.
    const commands = (await readFile(join(control, script), 'utf8')).split('\n').filter(l => !/^\s*(#|echo )/.test(l))
    t.false(commands.some(l => /systemctl\s+(enable|start|restart)/.test(l)), `${script} enables or starts the agent`)
  }
})

test('unpacked anywhere, the wrapper runs the shipped Node on the whole agent with type stripping off; lab commands say they are not there', async t => {
  const bin = join(root, 'usr/bin/heliotrope')
  // A bare environment: no node_modules/.bin, no system Node on PATH to fall back on.
  const env = { PATH: '/usr/sbin:/usr/bin:/sbin:/bin' }
  const version = await run(bin, ['--version'], { env, timeout: RUN_TIMEOUT_MS })
  t.is(version.stdout, `heliotrope ${pkg.version} (node ${pkg.devDependencies.node})\n`)
  // agent --help imports agent/cli/main.js, which imports the daemon and so libp2p and every other dependency.
  const help = await run(bin, ['agent', '--help'], { env, timeout: RUN_TIMEOUT_MS })
  t.regex(help.stdout, /--config/)
  t.is(help.stderr, '')
  const lab = await run(bin, ['plan', 'x.json'], { env, timeout: RUN_TIMEOUT_MS }).then(() => undefined, (err: { code?: number, stderr?: string }) => err)
  t.is(lab?.code, 1)
  t.regex(lab?.stderr ?? '', /not in this installation/)
})

test('the build refuses an unknown compression with its usage, before building anything', async t => {
  const err = await run(PINNED_NODE, [join(REPO, 'agent/packaging/build-deb.ts'), '--out', work, '--compression', 'lz4'], { cwd: REPO, timeout: RUN_TIMEOUT_MS }).then(() => undefined, (e: { code?: number, stderr?: string }) => e)
  t.is(err?.code, 2)
  t.regex(err?.stderr ?? '', /unknown compression lz4: xz, gzip or none\nusage: npm run package/)
})
