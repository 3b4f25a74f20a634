/**
 * `npm run package`: builds dist/heliotrope_VERSION_ARCH.deb from a clone
 * after `npm ci` (`--out DIR` for another directory; it prints the .deb's
 * path). One job, in the order the tree is laid out:
 *
 *   /usr/bin/heliotrope                  a sh wrapper: the shipped Node on the launcher
 *   /usr/lib/heliotrope/agent, lib       the sources compiled to JavaScript (tsc), so
 *                                        nothing strips types or transpiles at run time
 *   /usr/lib/heliotrope/node_modules     the production dependencies, as package-lock.json
 *                                        classifies them (no ava, typescript, eslint)
 *   /usr/lib/heliotrope/node             the pinned Node 24 (the `node` devDependency's
 *                                        binary) and its LICENSE: Debian 12's nodejs is 18,
 *                                        libp2p 3 needs >= 22, so the package carries its own
 *   /lib/systemd/system/heliotrope.service  the repository's unit, /usr/local/bin -> /usr/bin
 *   /usr/share/doc/heliotrope            copyright, README, operations, the config's schema
 *
 * The lab (lab/) is left out: the agent never imports it, and its commands
 * say so when run from the package (agent/bin/heliotrope.js). Nothing is
 * installed under /etc: `heliotrope init` writes /etc/heliotrope, so the
 * package has no conffiles. docs/operations.md, "Installing from the package".
 */
import { execFileSync } from 'node:child_process'
import { chmodSync, cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, relative, resolve } from 'node:path'
import { parseArgs } from 'node:util'

const REPO = new URL('../../', import.meta.url).pathname
const LIB = 'usr/lib/heliotrope'
/** The path the repository's unit runs the command at, and the package's. */
const UNIT_BIN = '/usr/local/bin/heliotrope'
const PACKAGE_BIN = '/usr/bin/heliotrope'
/**
 * Files of the npm packages that Node never loads here: type declarations,
 * source maps, and the TypeScript sources many packages ship beside their
 * compiled dist/ (a third of node_modules' bytes). The wrapper runs Node
 * with --no-strip-types, so a .ts file could not load even if one were asked for.
 */
const UNLOADED = /\.[cm]?ts$|\.map$/
/** Debian architecture -> the suffix of the Node binary package npm installed for it. */
const NODE_ARCH: Record<string, string> = { amd64: 'x64', arm64: 'arm64' }

interface PackageJson { name: string, version: string, description: string, author: string, license: string, type: string, dependencies: Record<string, string>, devDependencies: Record<string, string> }
interface LockEntry { version?: string, dev?: boolean, optional?: boolean, link?: boolean }

const run = (cmd: string, args: string[]): string => execFileSync(cmd, args, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim()
const write = (root: string, path: string, text: string, mode = 0o644): void => {
  mkdirSync(dirname(join(root, path)), { recursive: true })
  writeFileSync(join(root, path), text)
  chmodSync(join(root, path), mode)
}

/** The package's maintainer scripts. systemd may not be running (a chroot, a container): then there is nothing to tell it. */
const POSTINST = `#!/bin/sh
set -e
# Neither enabled nor started: the unit needs /etc/heliotrope/config.json,
# which \`heliotrope init\` writes. On an upgrade a running agent keeps the
# code it loaded until the operator restarts it (a restart is a leave and a
# rejoin, and ends migrations in flight), so that is the operator's call too.
if [ "$1" = configure ] && [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  if systemctl is-active --quiet heliotrope.service; then
    echo "heliotrope: the running agent keeps its old code until \`systemctl restart heliotrope\`" >&2
  fi
fi
`
const PRERM = `#!/bin/sh
set -e
# Removing the package stops the agent (SIGTERM: a graceful leave); an
# upgrade leaves it running (postinst says so).
if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
  systemctl stop heliotrope.service || true
fi
`
const POSTRM = `#!/bin/sh
set -e
# Purge removes what \`systemctl enable\` made (the unit file is gone, so
# systemctl disable no longer can). It keeps /etc/heliotrope and
# /var/lib/heliotrope: \`heliotrope init\` wrote them, and they hold this
# host's peer key and the cluster's key (docs/operations.md).
if [ "$1" = purge ]; then
  rm -f /etc/systemd/system/multi-user.target.wants/heliotrope.service
fi
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
fi
`
/** Relative to itself, so an unpacked tree (dpkg-deb -x, the package's test) runs its own copy. */
const WRAPPER = `#!/bin/sh
# heliotrope: the launcher on the Node this package ships, whatever Node the
# host has. The sources are compiled JavaScript, and --no-strip-types makes
# that a promise: a TypeScript file would not load.
lib="$(dirname "$(readlink -f "$0")")/../lib/heliotrope"
exec "$lib/node/bin/node" --no-strip-types "$lib/agent/bin/heliotrope.js" "$@"
`

/**
 * dpkg-deb's compression: xz for a release (31.7 MB; about 65 s of the
 * build on one core, the Node binary), gzip -1 where only the contents
 * matter (the package's test: 54 MB in 2 s), none for a look inside.
 */
const COMPRESSION: Record<string, string[]> = { xz: [], gzip: ['-Zgzip', '-z1'], none: ['-Znone'] }

function build (outDir: string, compression: string[]): string {
  const pkg = JSON.parse(readFileSync(join(REPO, 'package.json'), 'utf8')) as PackageJson
  const lock = JSON.parse(readFileSync(join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }
  const arch = run('dpkg', ['--print-architecture'])
  const nodeArch = NODE_ARCH[arch]
  if (nodeArch === undefined) throw new Error(`no Node binary for Debian architecture ${arch} (known: ${Object.keys(NODE_ARCH).join(', ')})`)
  const nodeDir = join(REPO, 'node_modules/node/node_modules', `node-linux-${nodeArch}`)
  if (!existsSync(join(nodeDir, 'bin/node'))) throw new Error(`${relative(REPO, nodeDir)}/bin/node is missing: run npm ci first`)
  const nodeVersion = run(join(nodeDir, 'bin/node'), ['--version']).replace(/^v/, '')
  if (nodeVersion !== pkg.devDependencies.node) throw new Error(`node_modules holds Node ${nodeVersion}, package.json pins ${pkg.devDependencies.node}: run npm ci`)

  const root = mkdtempSync(join(tmpdir(), 'heliotrope-deb-'))
  try {
    const lib = join(root, LIB)
    // The agent and lib as JavaScript, in the repository's layout (the launcher finds its way by relative URLs).
    execFileSync(process.execPath, [join(REPO, 'node_modules/typescript/bin/tsc'), '-p', 'agent/packaging/tsconfig.json', '--outDir', lib], { cwd: REPO, stdio: 'inherit' })
    cpSync(join(REPO, 'agent/bin/heliotrope.js'), join(lib, 'agent/bin/heliotrope.js'))
    // `type: module` makes the .js files ES modules; the version is what --version prints.
    write(root, `${LIB}/package.json`, JSON.stringify({ name: pkg.name, version: pkg.version, description: pkg.description, license: pkg.license, private: true, type: pkg.type, dependencies: pkg.dependencies }, null, 2) + '\n')

    // Production dependencies: the lockfile's entries not marked dev, each without its nested node_modules (those are entries of their own).
    let packages = 0
    for (const [path, entry] of Object.entries(lock.packages)) {
      if (path === '' || entry.dev === true) continue
      if (entry.link === true) throw new Error(`${path} is a link; the package cannot carry it`)
      const from = join(REPO, path)
      if (!existsSync(from)) {
        if (entry.optional === true) continue // another platform's optional binary
        throw new Error(`${path} is missing: run npm ci first`)
      }
      cpSync(from, join(lib, path), { recursive: true, filter: src => src === from || (relative(from, src).split('/')[0] !== 'node_modules' && !UNLOADED.test(src)) })
      packages++
    }
    for (const name of Object.keys(pkg.dependencies)) {
      if (!existsSync(join(lib, 'node_modules', name, 'package.json'))) throw new Error(`dependency ${name} did not make it into the package`)
    }

    cpSync(join(nodeDir, 'bin/node'), join(lib, 'node/bin/node'))
    cpSync(join(nodeDir, 'LICENSE'), join(lib, 'node/LICENSE'))
    write(root, 'usr/bin/heliotrope', WRAPPER, 0o755)

    const unit = readFileSync(join(REPO, 'agent/systemd/heliotrope.service'), 'utf8')
    if (!unit.includes(UNIT_BIN)) throw new Error(`the unit no longer runs ${UNIT_BIN}: update build-deb.ts`)
    write(root, 'lib/systemd/system/heliotrope.service', unit.replaceAll(UNIT_BIN, PACKAGE_BIN))

    const doc = 'usr/share/doc/heliotrope'
    write(root, `${doc}/copyright`, `heliotrope\n\n${readFileSync(join(REPO, 'LICENSE'), 'utf8')}\nNode.js ${nodeVersion}, in /${LIB}/node: its licence is /${LIB}/node/LICENSE.\nThe npm packages in /${LIB}/node_modules: each one's own licence, in its directory.\n`)
    cpSync(join(REPO, 'README.md'), join(root, doc, 'README.md'))
    cpSync(join(REPO, 'docs/operations.md'), join(root, doc, 'operations.md'))
    cpSync(join(REPO, 'agent/config.schema.json'), join(root, doc, 'config.schema.json'))

    const installedKb = Number(run('du', ['-sk', '--exclude=DEBIAN', root]).split('\t')[0])
    write(root, 'DEBIAN/control', [
      `Package: ${pkg.name}`,
      `Version: ${pkg.version}`,
      `Architecture: ${arch}`,
      `Maintainer: ${pkg.author}`,
      `Installed-Size: ${installedKb}`,
      // What the shipped Node binary links against (objdump -T: GLIBC_2.28 and GLIBCXX_3.4.21, GCC 5's, at most);
      // systemd: the unit, and systemd-notify for readiness; nftables: the collector `heliotrope init` configures.
      'Depends: libc6 (>= 2.28), libgcc-s1, libstdc++6 (>= 5.2), systemd, nftables',
      // ip: only for a driver run in a network namespace (the lab's way); most hosts have it anyway.
      'Recommends: iproute2',
      // The hypervisor is the host's, per the config's driver; chrony when timedatectl cannot tell the clock's sync.
      'Suggests: qemu-system-x86, libvirt-clients, xen-utils, chrony',
      'Section: admin',
      'Priority: optional',
      'Description: moves VMs between data centers to spare WAN links',
      ' Agents on every hypervisor host measure VM-to-VM traffic, gossip it,',
      ' elect a planner per round and live-migrate VMs so that distributed',
      ' applications stop hammering the wide-area links between data centers.',
      ' .',
      ` Bundles Node.js ${nodeVersion} in /${LIB}/node (Debian's nodejs is too`,
      ` old for libp2p 3) and ${packages} npm packages; the agent is compiled`,
      ' JavaScript. After installing: `heliotrope init`, then',
      ' `systemctl enable --now heliotrope`.',
      ''
    ].join('\n'))
    write(root, 'DEBIAN/postinst', POSTINST, 0o755)
    write(root, 'DEBIAN/prerm', PRERM, 0o755)
    write(root, 'DEBIAN/postrm', POSTRM, 0o755)
    // Modes as installed, whatever the builder's umask and mkdtemp's 0700: readable by all, executable where the owner may execute.
    run('chmod', ['-R', 'u+rwX,go=rX', root])

    mkdirSync(outDir, { recursive: true })
    const deb = join(outDir, `${pkg.name}_${pkg.version}_${arch}.deb`)
    // xz on at most one thread: build hosts here are shared.
    execFileSync('dpkg-deb', ['--build', '--root-owner-group', '--threads-max=1', ...compression, root, deb], { stdio: ['ignore', 'ignore', 'inherit'] })
    return deb
  } finally {
    rmSync(root, { recursive: true, force: true })
  }
}

const USAGE = 'usage: npm run package [-- --out DIR] [--compression xz|gzip|none]\n  builds DIR/heliotrope_VERSION_ARCH.deb (default DIR: dist/) and prints its path; xz by default\n'
let values: { out?: string, compression?: string, help?: boolean }
try {
  values = parseArgs({ options: { out: { type: 'string' }, compression: { type: 'string', default: 'xz' }, help: { type: 'boolean', short: 'h' } } }).values
} catch (err) {
  process.stderr.write(`${(err as Error).message}\n${USAGE}`)
  process.exit(2)
}
if (values.help === true) { process.stdout.write(USAGE); process.exit(0) }
const compression = COMPRESSION[values.compression ?? 'xz']
if (compression === undefined) { process.stderr.write(`unknown compression ${values.compression ?? ''}: xz, gzip or none\n${USAGE}`); process.exit(2) }
const started = Date.now()
const deb = build(resolve(values.out ?? join(REPO, 'dist')), compression)
process.stderr.write(`built in ${((Date.now() - started) / 1000).toFixed(0)} s\n`)
process.stdout.write(deb + '\n')
