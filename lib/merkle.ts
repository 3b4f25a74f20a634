/**
 * A binary hash tree over a DC's host reports (docs/design.md §9.4): the
 * aggregator signs the root, every host gets the path from its own leaf to
 * the root, so a host can tell that its report was included unchanged
 * without seeing anyone else's. The hash comes in as an argument (lib stays
 * free of crypto I/O; the agent passes sha256). Leaves and inner nodes are
 * hashed with different prefixes, so no inner node can pass for a leaf.
 */

export type Hash = (bytes: Uint8Array) => Uint8Array

const LEAF = 0x00
const NODE = 0x01

/** One step of an inclusion proof: the sibling's hash and which side it is on. */
export interface ProofStep {
  sibling: Uint8Array
  left: boolean
}

export function leafHash (hash: Hash, leaf: Uint8Array): Uint8Array {
  return hash(concat(Uint8Array.of(LEAF), leaf))
}

function nodeHash (hash: Hash, a: Uint8Array, b: Uint8Array): Uint8Array {
  return hash(concat(Uint8Array.of(NODE), a, b))
}

/** Every level of the tree, leaves' hashes first; an odd last node is carried up unpaired. */
export function buildLevels (hash: Hash, leaves: readonly Uint8Array[]): Uint8Array[][] {
  if (leaves.length === 0) return [[hash(new Uint8Array(0))]]
  const levels: Uint8Array[][] = [leaves.map(l => leafHash(hash, l))]
  while (levels[levels.length - 1]!.length > 1) {
    const below = levels[levels.length - 1]!
    const up: Uint8Array[] = []
    for (let i = 0; i < below.length; i += 2) up.push(i + 1 < below.length ? nodeHash(hash, below[i]!, below[i + 1]!) : below[i]!)
    levels.push(up)
  }
  return levels
}

export function rootOf (levels: readonly Uint8Array[][]): Uint8Array {
  return levels[levels.length - 1]![0]!
}

/** The path from leaf `index` to the root: about log2(leaves) hashes. */
export function proveInclusion (levels: readonly Uint8Array[][], index: number): ProofStep[] {
  const proof: ProofStep[] = []
  let i = index
  for (let l = 0; l < levels.length - 1; l++) {
    const level = levels[l]!
    const sibling = i ^ 1
    if (sibling < level.length) proof.push({ sibling: level[sibling]!, left: sibling < i })
    i >>= 1
  }
  return proof
}

/** True when `leaf` with `proof` hashes up to `root`. */
export function verifyInclusion (hash: Hash, root: Uint8Array, leaf: Uint8Array, proof: readonly ProofStep[]): boolean {
  let h = leafHash(hash, leaf)
  for (const step of proof) h = step.left ? nodeHash(hash, step.sibling, h) : nodeHash(hash, h, step.sibling)
  return equalBytes(h, root)
}

export function equalBytes (a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false
  return true
}

function concat (...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}
