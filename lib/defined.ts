/**
 * Optional fields that are absent rather than present-and-undefined. The
 * difference shows: CBOR (cborg) encodes `{ a: 1, b: undefined }` as a
 * two-key map with an undefined value, and a reader that checks `'b' in o`
 * sees a key that JSON.stringify would drop. `{ a, ...definedOnly({ b, c }) }`
 * replaces one `...(b !== undefined ? { b } : {})` per field; spread it where
 * the conditional spreads stood, since key order is output order.
 */

/** The keys of T whose values may be undefined. */
type MaybeUndefinedKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T]

/** T with each field that may be undefined made optional (and no longer undefined when present). */
export type DefinedOnly<T> = {
  [K in Exclude<keyof T, MaybeUndefinedKeys<T>>]: T[K]
} & {
  [K in MaybeUndefinedKeys<T>]?: Exclude<T[K], undefined>
}

/** A copy of `fields` without its undefined-valued properties, in the same key order. */
export function definedOnly<T extends object> (fields: T): DefinedOnly<T> {
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(fields)) {
    if (v !== undefined) out[k] = v
  }
  return out as DefinedOnly<T>
}
