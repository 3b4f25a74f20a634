/** Input mutations for fuzzing (seeded, so a failure can be replayed). */
import type { Random } from '../../lib/random.ts'

const INTERESTING = [0, 1, 0x7f, 0x80, 0xff, 0x18, 0x19, 0x1a, 0x1b, 0x9f, 0xbf, 0xf4, 0xf5, 0xf6, 0xf7, 0xfb, 0x22, 0x5b, 0x7b, 0x2d, 0x30, 0x39, 0x3a]
const TOKENS = ['null', 'true', '-1', '1e309', '""', '[]', '{}', '"__proto__"', '"constructor"', '9007199254740993', '-0', '"\\u0000"', '"fd00::1"', '{"id":1}']

export function mutate (rng: Random, seed: Uint8Array, seeds: Uint8Array[]): Uint8Array {
  let b = Array.from(seed)
  const steps = rng.int(1, 4)
  for (let s = 0; s < steps; s++) {
    const at = rng.int(0, Math.max(0, b.length - 1))
    switch (rng.int(0, 8)) {
      case 0: b[at] = rng.int(0, 255); break // random byte
      case 1: b[at] = (b[at] ?? 0) ^ (1 << rng.int(0, 7)); break // bit flip
      case 2: b[at] = rng.pick(INTERESTING); break
      case 3: b.splice(at, rng.int(1, 16)); break // delete
      case 4: b.splice(at, 0, ...Array.from({ length: rng.int(1, 16) }, () => rng.int(0, 255))); break // insert
      case 5: b = b.slice(0, at); break // truncate
      case 6: { const other = Array.from(rng.pick(seeds)); const from = rng.int(0, other.length); b.splice(at, rng.int(0, 32), ...other.slice(from, from + rng.int(1, 64))); break } // splice
      case 7: b.splice(at, rng.int(0, 8), ...new TextEncoder().encode(rng.pick(TOKENS))); break
      default: { const k = rng.int(1, 64); b.splice(at, 0, ...b.slice(at, at + k), ...b.slice(at, at + k)) } // duplicate a run
    }
  }
  return Uint8Array.from(b)
}

export function randomBytes (rng: Random, max: number): Uint8Array {
  return Uint8Array.from({ length: rng.int(0, max) }, () => rng.int(0, 255))
}

const ODD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, '', 'x', 'fd00::1', '2001:db8::/48', [], {}, [1, 2], { id: 'v1' }, 'a'.repeat(300), 2 ** 53 + 2]

/**
 * Structure-aware mutation: change one value deep inside a valid document
 * (replace, delete a key, add a key, wrap, duplicate an array entry), so the
 * validators see inputs that parse but are wrong in one precise place.
 */
export function mutateValue (rng: Random, value: unknown): unknown {
  const copy = structuredClone(value)
  const nodes: Array<{ parent: Record<string, unknown> | unknown[], key: string | number }> = []
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach((x, i) => { nodes.push({ parent: v, key: i }); walk(x) })
    else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) { nodes.push({ parent: v as Record<string, unknown>, key: k }); walk(x) }
  }
  walk(copy)
  if (nodes.length === 0) return rng.pick(ODD_VALUES)
  const { parent, key } = rng.pick(nodes)
  const p = parent as Record<string | number, unknown>
  switch (rng.int(0, 4)) {
    case 0: p[key] = rng.pick(ODD_VALUES); break
    case 1: if (Array.isArray(parent)) parent.splice(key as number, 1); else delete p[key]; break
    case 2: if (Array.isArray(parent)) parent.push(structuredClone(parent[key as number])); else p[`${String(key)}_extra`] = rng.pick(ODD_VALUES); break
    case 3: p[key] = [p[key]]; break
    default: p[key] = typeof p[key] === 'number' ? -(p[key] as number) : typeof p[key] === 'string' ? (p[key] as string).slice(1) : rng.pick(ODD_VALUES)
  }
  return copy
}
