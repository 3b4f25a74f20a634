/**
 * The membership records this agent holds, kept in the state directory
 * (membership.json, replaced atomically: agent/durable-file.ts), so a
 * restarted agent knows every admitted member and every revocation from its
 * first round, before any peer answers; and this host's own invitation
 * (invitation.json, written by `heliotrope init --join`), which it presents
 * until a member admits it.
 */
import { join } from 'node:path'
import { decode } from 'cborg'
import type { Invitation, Signed } from '../../lib/membership.ts'
import type { MembershipBundle } from '../../lib/membership-wire.ts'
import { DurableFile } from '../durable-file.ts'
import { decodeBundle, decodeInvitation, encodeBundle, encodeInvitation } from './wire.ts'

export const MEMBERSHIP_FILE = 'membership.json'
export const INVITATION_FILE = 'invitation.json'
const VERSION = 1

export class MembershipStore {
  private readonly records: DurableFile
  private readonly invitationFile: DurableFile

  constructor (stateDir: string) {
    this.records = new DurableFile(join(stateDir, MEMBERSHIP_FILE))
    this.invitationFile = new DurableFile(join(stateDir, INVITATION_FILE))
  }

  /** The records kept; a damaged file stops the start (the operator decides: move it away and the agent learns the records from its peers). */
  async load (): Promise<MembershipBundle> {
    const text = await this.records.read()
    if (text === undefined) return { certificates: [], revocations: [] }
    const bundle = decodeBundle(fromFile(text, 'bundle'))
    if (typeof bundle === 'string') throw new Error(`${this.records.path} is not a heliotrope membership file (${bundle}); move it away, and the agent learns the records from its peers`)
    return bundle
  }

  async save (bundle: MembershipBundle): Promise<void> {
    await this.records.write(toFile(encodeBundle(bundle), 'bundle'))
  }

  async loadInvitation (): Promise<Signed<Invitation> | undefined> {
    const text = await this.invitationFile.read()
    if (text === undefined) return undefined
    let value: unknown
    try { value = decode(fromFile(text, 'invitation')) } catch { value = undefined }
    const inv = decodeInvitation(value)
    if (typeof inv === 'string') throw new Error(`${this.invitationFile.path} is not a heliotrope invitation (${inv}); run heliotrope init --join with a new token`)
    return inv
  }

  async saveInvitation (inv: Signed<Invitation>): Promise<void> {
    await this.invitationFile.write(toFile(encodeInvitation(inv), 'invitation'))
  }

  async idle (): Promise<void> {
    await this.records.idle()
  }
}

function toFile (bytes: Uint8Array, field: string): string {
  return JSON.stringify({ version: VERSION, [field]: Buffer.from(bytes).toString('base64') }) + '\n'
}

function fromFile (text: string, field: string): Uint8Array {
  try {
    const o = JSON.parse(text) as Record<string, unknown>
    if (o.version === VERSION && typeof o[field] === 'string') return new Uint8Array(Buffer.from(o[field], 'base64'))
  } catch {}
  return new Uint8Array()
}
