/**
 * A new host presenting its invitation (docs/design.md §3.7): it asks its
 * bootstrap peers (and any member it is connected to) on the join protocol
 * until one admits it, and says why it is not admitted yet at warn level
 * (the invitation not valid yet, expired, refused; nobody answering), once
 * per distinct reason and again every half minute: a host must never wait
 * in silence. No restart is needed: it keeps trying.
 */
import type { Invitation, Signed } from '../../lib/membership.ts'
import type { MembershipBundle } from '../../lib/membership-wire.ts'
import type { Logger } from '../log.ts'
import { parseBootstrapAddr, request, type ClusterNode } from '../net/index.ts'
import { describeProblem, JOIN_PROTOCOL, type JoinAnswer } from './join-protocol.ts'
import { decodeBundle } from './wire.ts'

/** The same reason is logged again after this long. */
const REPEAT_WARNING_MS = 30_000

export interface JoinerComponents {
  node: ClusterNode
  log: Logger
  now: () => number
  invitation: Signed<Invitation>
  retryMs: number
  /** Multiaddrs with /p2p/<peer id>: the first peers asked. */
  bootstrap: readonly string[]
  /** Members known now (the view's). */
  members: () => string[]
  admitted: (bundle: MembershipBundle) => Promise<void>
}

export class Joiner {
  private readonly c: JoinerComponents
  private readonly stopping = new AbortController()
  private running: Promise<void> | undefined
  private lastWarning = ''
  private lastWarningAt = -Infinity

  constructor (components: JoinerComponents) {
    this.c = components
  }

  start (): void {
    this.running = this.loop()
  }

  async stop (): Promise<void> {
    this.stopping.abort()
    await this.running
  }

  private warn (key: string, msg: string, fields: Record<string, unknown>): void {
    const now = this.c.now()
    if (key === this.lastWarning && now - this.lastWarningAt < REPEAT_WARNING_MS) return
    this.lastWarning = key
    this.lastWarningAt = now
    this.c.log.warn(msg, fields)
  }

  private async loop (): Promise<void> {
    const { node, invitation } = this.c
    const inv = invitation.body
    const signal = this.stopping.signal
    while (!signal.aborted) {
      const now = this.c.now()
      if (now < inv.notBefore) {
        this.warn('not-yet-valid', 'not a member yet: this host\'s invitation is not valid yet; it will present it then', { host: inv.host, detail: describeProblem('not-yet-valid', inv, now) })
      } else {
        const peers = [...new Set([...this.c.bootstrap.map(a => parseBootstrapAddr(a).peerId.toString()), ...this.c.members()])].filter(p => p !== node.peerId)
        const refusals: string[] = []
        for (const peer of peers) {
          if (signal.aborted) return
          let answer: JoinAnswer
          try {
            answer = await request(node, peer, node.protocol(JOIN_PROTOCOL, '1'), { invitation }, { signal, timeoutMs: 5_000, maxBytes: node.maxMessageBytes }) as JoinAnswer
          } catch (err) {
            refusals.push(`${peer}: ${(err as Error).message}`)
            continue
          }
          if (answer.admitted) {
            const bundle = decodeBundle(answer.bundle)
            if (typeof bundle === 'string') { refusals.push(`${peer}: a malformed answer (${bundle})`); continue }
            await this.c.admitted(bundle)
            return
          }
          this.warn(`refused/${answer.reason}`, 'not a member yet: a member refused this host\'s invitation; trying again', { host: inv.host, by: peer, why: answer.reason, detail: answer.detail })
          refusals.push(`${peer}: ${answer.reason}`)
        }
        if (refusals.length === peers.length && refusals.every(r => !/: (not-yet-valid|expired|revoked|nonce-used|static-member|wrong-cluster|bad-signature|malformed)$/.test(r))) {
          this.warn('nobody', 'not a member yet: no member answered this host\'s invitation; trying again', { host: inv.host, tried: refusals })
        }
      }
      await new Promise<void>(resolve => {
        const t = setTimeout(resolve, this.c.retryMs)
        signal.addEventListener('abort', () => { clearTimeout(t); resolve() }, { once: true })
      })
    }
  }
}
