/**
 * Encoded sizes of the messages, in bytes, from what they hold. The CBOR
 * figures come from encoding real envelopes (a 4-VM digest with 6 peers per
 * VM is 883 B, a 20-VM one 4,099 B: about 80 B of envelope, 20 B per VM and
 * 27 B per peer entry); signatures are ed25519's 64 B, hashes sha256's 32 B.
 */
import type { World } from './world.ts'

export const ENVELOPE_B = 80
export const SIGNATURE_B = 64
export const HASH_B = 32
const PER_VM_B = 20
const PER_PEER_B = 27
const PER_STATE_VM_B = 90
const PER_MOVE_B = 60

/** The host's TrafficDigest envelope (docs/design.md §2.2). */
export function digestBytes (world: World, h: number): number {
  let b = ENVELOPE_B
  for (const k of world.vmsOf[h]!) b += PER_VM_B + PER_PEER_B * world.peersOfVm[k]!
  return b
}

/** HostState: capacity, address and every VM. */
export function stateBytes (world: World, h: number): number {
  return ENVELOPE_B + 120 + PER_STATE_VM_B * world.vmsOf[h]!.length
}

export function planBytes (moves: number, dcs: number): number {
  // Tiered plans name the DC roots they were computed from instead of every host's state seq.
  return ENVELOPE_B + 60 + PER_MOVE_B * moves + (HASH_B + 8) * dcs
}

export const EVENT_B = ENVELOPE_B + 40
export const VOTE_B = ENVELOPE_B + 30

/** A host's signed report to its aggregator: its digest (or the hash of an unchanged one) and its state's hash. */
export function reportBytes (world: World, h: number, changed: boolean): number {
  return (changed ? digestBytes(world, h) : ENVELOPE_B + HASH_B) + HASH_B + SIGNATURE_B
}

/** The aggregator's signed DC header: round, DC, epoch, rank, count, Merkle root. */
export const HEADER_B = ENVELOPE_B + 24 + HASH_B + SIGNATURE_B

export function receiptBytes (hostsInDc: number): number {
  return HEADER_B + (HASH_B + 1) * Math.ceil(Math.log2(Math.max(2, hostsInDc)))
}

/** A DC's tally of signed votes: header, a bitmap of who voted, the root of their signatures. */
export function tallyBytes (hostsInDc: number): number {
  return HEADER_B + Math.ceil(hostsInDc / 8) + HASH_B
}

/** The round's certificate: the plan's hash, every DC's tally and roster bitmap, the planner's signature. */
export function certificateBytes (world: World): number {
  let b = ENVELOPE_B + HASH_B + SIGNATURE_B
  for (const hosts of world.dcHosts) b += tallyBytes(hosts.length) + Math.ceil(hosts.length / 8)
  return b
}
