/**
 * What keeps an aggregator honest (docs/design.md §9.4), on real bytes: a
 * host signs its report; the aggregator puts the signed reports in a Merkle
 * tree (lib/merkle.ts) and signs the root; each host checks the path from
 * its own report to that root; the planner checks every report's signature
 * and round; the certificate carries the roots the planner used, so a host
 * shown one root and the planner another holds proof. The model's
 * "signature" is sha256 over a host secret and the report (a stand-in for
 * ed25519 with the same property here: no one else can make it).
 */
import { buildLevels, equalBytes, proveInclusion, rootOf, verifyInclusion, type ProofStep } from '../../lib/merkle.ts'
import { sha256 } from './world.ts'

export interface SignedReport {
  host: string
  round: number
  /** What the report says (the digest, or the hash of an unchanged one). */
  body: string
  signature: Uint8Array
}

export const ATTACKS = ['omit', 'alter', 'forge', 'replay', 'equivocate'] as const
export type Attack = typeof ATTACKS[number]

export type Accusation =
  | { kind: 'omitted' | 'altered', by: string, host: string, detectedBy: 'host' | 'planner' }
  | { kind: 'bad-signature' | 'wrong-round' | 'duplicate', by: string, host: string, detectedBy: 'planner' }
  | { kind: 'equivocation', by: string, host: string, detectedBy: 'host' }

const encoder = new TextEncoder()

function secretOf (host: string): string {
  return `secret:${host}`
}

export function signReport (host: string, round: number, body: string): SignedReport {
  return { host, round, body, signature: sha256(`${secretOf(host)}|${round}|${body}`) }
}

export function signatureValid (r: SignedReport): boolean {
  return equalBytes(r.signature, sha256(`${secretOf(r.host)}|${r.round}|${r.body}`))
}

export function leafOf (r: SignedReport): Uint8Array {
  return encoder.encode(`${r.host}|${r.round}|${r.body}|${Buffer.from(r.signature).toString('hex')}`)
}

export interface SealedDc {
  reports: SignedReport[]
  levels: Uint8Array[][]
  root: Uint8Array
}

export function seal (reports: SignedReport[]): SealedDc {
  const levels = buildLevels(sha256, reports.map(leafOf))
  return { reports, levels, root: rootOf(levels) }
}

export interface Receipt {
  root: Uint8Array
  /** Undefined when the aggregator has no leaf for the host. */
  proof?: ProofStep[]
}

export function receiptFor (sealed: SealedDc, host: string): Receipt {
  const i = sealed.reports.findIndex(r => r.host === host)
  return i < 0 ? { root: sealed.root } : { root: sealed.root, proof: proveInclusion(sealed.levels, i) }
}

/** The host's check: its own report, unchanged, under the signed root. */
export function receiptHolds (own: SignedReport, receipt: Receipt): boolean {
  return receipt.proof !== undefined && verifyInclusion(sha256, receipt.root, leafOf(own), receipt.proof)
}

/** The planner's check of a DC bundle: every report signed by its host, for this round, once. */
export function auditBundle (sealed: SealedDc, round: number, aggregator: string): { good: SignedReport[], accusations: Accusation[] } {
  const good: SignedReport[] = []
  const accusations: Accusation[] = []
  const seen = new Set<string>()
  for (const r of sealed.reports) {
    if (!signatureValid(r)) accusations.push({ kind: 'bad-signature', by: aggregator, host: r.host, detectedBy: 'planner' })
    else if (r.round !== round) accusations.push({ kind: 'wrong-round', by: aggregator, host: r.host, detectedBy: 'planner' })
    else if (seen.has(r.host)) accusations.push({ kind: 'duplicate', by: aggregator, host: r.host, detectedBy: 'planner' })
    else { seen.add(r.host); good.push(r) }
  }
  return { good, accusations }
}

/**
 * What a dishonest aggregator does to its DC's reports before sealing:
 * `victim` is the host it targets. Returns the reports it seals and, for
 * equivocation, the different set it shows the planner.
 */
export function tamper (attack: Attack, reports: SignedReport[], victim: string, round: number): { toHosts: SignedReport[], toPlanner: SignedReport[] } {
  const i = reports.findIndex(r => r.host === victim)
  if (i < 0) return { toHosts: reports, toPlanner: reports }
  const changed = [...reports]
  switch (attack) {
    case 'omit': changed.splice(i, 1); break
    case 'alter': changed[i] = { ...reports[i]!, body: reports[i]!.body + ' +1Gbit/s' }; break
    case 'forge': changed.push({ host: `${victim}-ghost`, round, body: 'invented', signature: new Uint8Array(32) }); break
    case 'replay': changed[i] = signReport(victim, round - 1, reports[i]!.body); break
    case 'equivocate': return { toHosts: reports, toPlanner: reports.filter((_, k) => k !== i) }
  }
  return { toHosts: changed, toPlanner: changed }
}
