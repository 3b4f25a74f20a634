/**
 * The operator's hold on VMs and on this host: `heliotrope pin` (gossiped,
 * so any host's pin reaches the VM's host, which confirms it in its state)
 * and `heliotrope drain` (this host takes no VMs and its VMs move away).
 * Both are kept in the state directory (store.ts) and survive a restart.
 */
import type { ReplicatedView } from '../../lib/view.ts'
import type { EventMessage } from '../../lib/wire/messages.ts'
import type { ControlReply } from '../control-socket/protocol.ts'
import type { Logger } from '../log.ts'
import { migrates, type Mode } from './mode.ts'
import type { ControlStore } from './store.ts'

/** How long `heliotrope pin` waits for the VM's host to show the pin. */
export const PIN_CONFIRM_MS = 5_000

export interface PinsContext {
  host: string
  view: ReplicatedView
  log: Logger
  now: () => number
  store: ControlStore
  /** The mode in effect now: a drain says when it moves nothing. */
  mode: () => Mode
  publishEvent: (body: EventMessage) => Promise<void>
  publishState: () => Promise<unknown>
}

export class PinsAndDrain {
  private readonly ctx: PinsContext

  constructor (ctx: PinsContext) {
    this.ctx = ctx
  }

  /** A gossiped pin or unpin (`at`: its sequence, so an older one never undoes a newer). */
  async apply (vm: string, pinned: boolean, at: number, by: string): Promise<void> {
    if (!(await this.ctx.store.setPin(vm, pinned, at))) return
    this.ctx.log.info(pinned ? 'pinned' : 'unpinned', { vm, by })
    if (this.ownVms().includes(vm)) await this.ctx.publishState()
  }

  /** The VMs this host reports. */
  ownVms (): string[] {
    return this.ctx.view.member(this.ctx.host)?.state?.vms.map(v => v.id) ?? []
  }

  list (): ControlReply {
    const pinned = this.ctx.store.pinned()
    return { ok: true, message: pinned.length === 0 ? 'no VM is pinned' : `pinned: ${pinned.join(' ')}`, data: pinned }
  }

  /** `heliotrope pin|unpin <vm>`: gossiped, then waits (briefly) for the VM's host to confirm it. */
  async pin (vm: string, pinned: boolean): Promise<ControlReply> {
    await this.ctx.publishEvent({ kind: pinned ? 'pin' : 'unpin', vm })
    const verb = pinned ? 'pinned' : 'unpinned'
    const end = this.ctx.now() + PIN_CONFIRM_MS
    for (;;) {
      const where = this.hostOf(vm)
      if (where === undefined) return { ok: true, message: `${verb} ${vm}; no host reports it now (it stays ${verb} wherever it appears)`, data: { vm, pinned } }
      if (where.pinned === pinned) return { ok: true, message: `${verb} ${vm} (on ${where.host}, which confirms it)`, data: { vm, pinned, host: where.host } }
      if (this.ctx.now() > end) return { ok: true, message: `${verb} ${vm}; its host ${where.host} has not confirmed yet (is it up?)`, data: { vm, pinned, host: where.host, confirmed: false } }
      await new Promise(resolve => setTimeout(resolve, 100))
    }
  }

  /** `heliotrope drain|undrain`: kept, then announced in this host's state. */
  async drain (draining: boolean): Promise<ControlReply> {
    const { store, host, log } = this.ctx
    await store.setDraining(draining)
    await this.ctx.publishState()
    const vms = this.ownVms()
    log.warn(draining ? 'draining: this host takes no VMs and its VMs move away' : 'drain ended: this host takes VMs again', { vms: vms.length })
    if (!draining) return { ok: true, message: `${host} takes VMs again`, data: { draining, vms } }
    const stuck = vms.filter(vm => store.isPinned(vm))
    const note = stuck.length > 0 ? `; pinned VMs stay until unpinned: ${stuck.join(' ')}` : ''
    const mode = this.ctx.mode()
    const modeNote = migrates(mode) ? '' : ` (mode ${mode}: nothing moves until the mode allows it)`
    return { ok: true, message: `draining ${host}: ${vms.length} VM(s) to move away${note}${modeNote}`, data: { draining, vms } }
  }

  private hostOf (vm: string): { host: string, pinned: boolean } | undefined {
    for (const m of this.ctx.view.members()) {
      const v = m.state?.vms.find(x => x.id === vm)
      if (v !== undefined) return { host: m.host, pinned: v.pinned }
    }
    return undefined
  }
}
