/**
 * The reservation protocol `/heliotrope/<cluster>/migrate/1.0.0`: before a
 * source live-migrates a VM it asks the target to admit it. The target
 * admits only moves of the plan it accepted for the round, from the VM's
 * own host, with room to spare; an admission is a reservation that expires.
 * Then the source reports the outcome (commit or cancel).
 */
import { Checker, type Json } from '../lib/check.ts'
import type { MigrationTarget, VmInfo } from './drivers/types.ts'
import { definedOnly } from '../lib/defined.ts'

const MAX_ARGS = 256
const MAX_ARG_CHARS = 4096

export type MigrateRequest =
  | { op: 'reserve', round: number, vm: VmInfo }
  | { op: 'commit' | 'cancel', round: number, vmId: string }

export type MigrateResponse =
  | { ok: true, target?: MigrationTarget, expiresAt?: number }
  | { ok: false, reason: RefusalReason, detail: string }

export const REFUSAL_REASONS = ['not-member', 'not-in-plan', 'no-room', 'leaving', 'busy', 'bad-request', 'unknown-reservation'] as const
export type RefusalReason = typeof REFUSAL_REASONS[number]

/** A refusal's detail is for logs: longer ones are cut, not refused. */
const MAX_DETAIL_CHARS = 1024

export function readMigrateRequest (v: Json): MigrateRequest | string {
  const c = new Checker(3)
  const o = c.object('', v)
  if (o === undefined) return 'not an object'
  const op = c.oneOf('op', o.op, ['reserve', 'commit', 'cancel'] as const)
  const round = c.number('round', o.round, { integer: true, min: 0 })
  if (op === 'reserve') {
    c.onlyKeys('', o, ['op', 'round', 'vm'])
    const vm = c.object('vm', o.vm)
    if (vm !== undefined) {
      c.onlyKeys('vm', vm, ['id', 'status', 'memoryMiB', 'vcpus', 'addresses', 'args'])
      c.string('vm.id', vm.id, { max: 128 })
      c.number('vm.memoryMiB', vm.memoryMiB, { min: 0 })
      c.number('vm.vcpus', vm.vcpus, { min: 0, integer: true })
      const addrs = c.array('vm.addresses', vm.addresses) ?? []
      if (addrs.length > 16) c.fail('vm.addresses', 'at most 16 addresses', addrs)
      addrs.forEach((a, i) => c.string(`vm.addresses[${i}]`, a, { max: 64 }))
      if (vm.args !== undefined) {
        const args = c.array('vm.args', vm.args) ?? []
        if (args.length > MAX_ARGS) c.fail('vm.args', `at most ${MAX_ARGS} arguments`, args)
        args.forEach((a, i) => c.string(`vm.args[${i}]`, a, { nonEmpty: false, max: MAX_ARG_CHARS }))
      }
    }
    if (!c.ok) return c.summary('(request)')
    return { op, round: round!, vm: { ...(vm as unknown as VmInfo), status: 'incoming' } }
  }
  c.onlyKeys('', o, ['op', 'round', 'vmId'])
  const vmId = c.string('vmId', o.vmId, { max: 128 })
  if (!c.ok || op === undefined) return c.summary('(request)')
  return { op, round: round!, vmId: vmId! }
}

/**
 * Validates a target's answer before the source acts on it: the target is
 * a member, but its `target` goes to the hypervisor as a migration address,
 * so a wrong shape must not reach the driver.
 */
export function readMigrateResponse (v: Json): MigrateResponse | string {
  const c = new Checker(3)
  const o = c.object('', v)
  if (o === undefined) return 'not an object'
  const ok = c.boolean('ok', o.ok)
  if (ok === false) {
    c.onlyKeys('', o, ['ok', 'reason', 'detail'])
    const reason = c.oneOf('reason', o.reason, REFUSAL_REASONS)
    const detail = c.string('detail', o.detail, { nonEmpty: false })
    if (!c.ok) return c.summary('(answer)')
    return { ok, reason: reason!, detail: detail!.slice(0, MAX_DETAIL_CHARS) }
  }
  c.onlyKeys('', o, ['ok', 'target', 'expiresAt'])
  const expiresAt = c.optional(o.expiresAt, x => c.number('expiresAt', x, { min: 0 }))
  let target: MigrationTarget | undefined
  const t = c.optional(o.target, x => c.object('target', x))
  if (t !== undefined) {
    c.onlyKeys('target', t, ['address', 'port', 'uri'])
    const address = c.string('target.address', t.address, { max: 64 })
    const port = c.optional(t.port, x => c.number('target.port', x, { integer: true, min: 1, max: 65535 }))
    const uri = c.optional(t.uri, x => c.string('target.uri', x, { max: 512 }))
    target = { address: address!, ...definedOnly({ port, uri }) }
  }
  if (!c.ok || ok === undefined) return c.summary('(answer)')
  return { ok, ...definedOnly({ target, expiresAt }) }
}

/** The protocol's id on a node: `/heliotrope/<cluster>/migrate/1.0.0`. */
export function migrateProtocol (node: { protocol (name: string, version?: string): string }): string {
  return node.protocol('migrate', '1.0.0')
}
