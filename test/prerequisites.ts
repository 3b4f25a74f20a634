/**
 * Tests that need something of the machine (root, nftables, QEMU, libvirt,
 * tmux...) say so here, by the names of `heliotrope doctor --lab`'s checks.
 * A missing prerequisite makes the file's tests skips with the reason,
 * never passes. When CI runs as root (CI=true), a prerequisite the bootstrap
 * was meant to install makes them fail instead: a missing install step must
 * not hide behind a green run.
 */
import anyTest, { type TestFn } from 'ava'
import { labChecks, NOT_INSTALLABLE, type LabCheckId } from '../agent/doctor/lab-checks.ts'
import type { CheckResult } from '../agent/doctor/check.ts'

let checks: Promise<CheckResult[]> | undefined

/** Why the named prerequisites are not all here (one line), or undefined when they are. */
export async function missing (...ids: LabCheckId[]): Promise<string | undefined> {
  checks ??= labChecks()
  const results = await checks
  // A warning (no /dev/kvm, no br_netfilter) is fine for a host, but a test that names the check needs it.
  const bad = ids.map(id => results.find(r => r.id === id)).filter(r => r !== undefined && r.status !== 'ok') as CheckResult[]
  return bad.length === 0 ? undefined : bad.map(r => `${r.id}: ${r.detail}`).join('; ')
}

/** Whether the missing ones are the bootstrap's to install (so, in CI as root, a failure). */
async function installable (...ids: LabCheckId[]): Promise<boolean> {
  const results = await (checks ??= labChecks())
  return ids.some(id => !NOT_INSTALLABLE.has(id) && results.find(r => r.id === id)?.status !== 'ok')
}

export const strictCi = process.env.CI === 'true' && process.getuid?.() === 0

/**
 * The test function for a file whose tests need `ids`: ava's serial tests
 * when all are here; skipped ones (reason on stderr) when not; in CI as root
 * with an installable one missing, tests that fail with the reason.
 */
export async function requires (file: string, ...ids: LabCheckId[]): Promise<TestFn> {
  const why = await missing(...ids)
  if (why === undefined) return anyTest.serial as TestFn
  if (strictCi && await installable(...ids)) {
    process.stderr.write(`${file}: FAILING, a prerequisite the bootstrap installs is missing: ${why}\n`)
    anyTest.before('prerequisites', t => { t.fail(`missing after the bootstrap (.ci/bootstrap.sh): ${why}`) })
    return anyTest.serial as TestFn
  }
  process.stderr.write(`${file}: skipped: ${why}\n`)
  return anyTest.serial.skip as unknown as TestFn
}
