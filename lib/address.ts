/**
 * IPv6 address and prefix parsing, enough to validate input and to map an
 * address to the longest matching external prefix. Pure, no dependencies.
 */

/** Parses an IPv6 address into 8 groups of 16 bits, or returns undefined. */
export function parseIpv6 (text: string): number[] | undefined {
  if (text.length === 0 || text.length > 45) return undefined
  let s = text
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two groups.
  const v4 = /^(.*:)(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s)
  if (v4 !== null) {
    const b = v4.slice(2).map(Number)
    if (b.some(x => x > 255)) return undefined
    s = `${v4[1]}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`
  }
  const halves = s.split('::')
  if (halves.length > 2) return undefined
  const parse = (part: string): number[] | undefined => {
    if (part === '') return []
    const out: number[] = []
    for (const g of part.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined
      out.push(parseInt(g, 16))
    }
    return out
  }
  const head = parse(halves[0]!)
  if (head === undefined) return undefined
  if (halves.length === 1) return head.length === 8 ? head : undefined
  const tail = parse(halves[1]!)
  if (tail === undefined || head.length + tail.length > 7) return undefined
  return [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail]
}

export interface Ipv6Prefix {
  groups: number[]
  length: number
}

/** Parses "fd00:1::/48"; host bits beyond the length must be zero. */
export function parseIpv6Prefix (text: string): Ipv6Prefix | undefined {
  const slash = text.indexOf('/')
  if (slash < 0) return undefined
  const groups = parseIpv6(text.slice(0, slash))
  const lenText = text.slice(slash + 1)
  if (groups === undefined || !/^\d{1,3}$/.test(lenText)) return undefined
  const length = Number(lenText)
  if (length > 128) return undefined
  for (let bit = length; bit < 128; bit++) {
    if (((groups[bit >> 4]! >> (15 - (bit & 15))) & 1) !== 0) return undefined
  }
  return { groups, length }
}

/** True when `address` (8 groups) lies inside `prefix`. */
export function prefixContains (prefix: Ipv6Prefix, address: number[]): boolean {
  let bits = prefix.length
  for (let i = 0; i < 8 && bits > 0; i++) {
    const take = Math.min(16, bits)
    const mask = (0xffff << (16 - take)) & 0xffff
    if ((prefix.groups[i]! & mask) !== (address[i]! & mask)) return false
    bits -= take
  }
  return true
}

/** The canonical (RFC 5952-ish, lower case, longest zero run compressed) text. */
export function formatIpv6 (groups: number[]): string {
  let bestStart = -1; let bestLen = 0
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue }
    let j = i
    while (j < 8 && groups[j] === 0) j++
    if (j - i > bestLen && j - i > 1) { bestStart = i; bestLen = j - i }
    i = j
  }
  const hex = groups.map(g => g.toString(16))
  if (bestStart < 0) return hex.join(':')
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`
}
