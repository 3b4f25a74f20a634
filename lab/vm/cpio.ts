/**
 * A writer for "newc" cpio archives, the format the Linux kernel unpacks as
 * an initramfs. Written here rather than shelling out to cpio(1) so building
 * the test guest needs no extra tool and no root (device nodes are just
 * header fields).
 */

export type CpioEntry =
  | { kind: 'dir', path: string, mode?: number }
  | { kind: 'file', path: string, data: Uint8Array, mode?: number }
  | { kind: 'symlink', path: string, target: string }
  | { kind: 'chardev', path: string, major: number, minor: number, mode?: number }

const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000
const S_IFCHR = 0o020000
const TRAILER = 'TRAILER!!!'

function hex8 (n: number): string {
  return n.toString(16).padStart(8, '0')
}

/** Zero bytes that bring `length` up to a multiple of 4 (newc aligns header+name and data). */
function pad4 (length: number): Uint8Array {
  return new Uint8Array((4 - (length % 4)) % 4)
}

function record (ino: number, mode: number, data: Uint8Array, name: string, rdev: [number, number] = [0, 0]): Uint8Array[] {
  const nameBytes = new TextEncoder().encode(name + '\0')
  const fields = [ino, mode, 0, 0, 1, 0, data.byteLength, 0, 0, rdev[0], rdev[1], nameBytes.byteLength, 0]
  const header = new TextEncoder().encode('070701' + fields.map(hex8).join(''))
  return [header, nameBytes, pad4(header.byteLength + nameBytes.byteLength), data, pad4(data.byteLength)]
}

/** The archive of `entries` in order (parents must come before children). */
export function cpioArchive (entries: CpioEntry[]): Uint8Array {
  const parts: Uint8Array[] = []
  entries.forEach((e, i) => {
    const path = e.path.replace(/^\/+/, '')
    const ino = i + 1
    switch (e.kind) {
      case 'dir': parts.push(...record(ino, S_IFDIR | (e.mode ?? 0o755), new Uint8Array(0), path)); break
      case 'file': parts.push(...record(ino, S_IFREG | (e.mode ?? 0o644), e.data, path)); break
      case 'symlink': parts.push(...record(ino, S_IFLNK | 0o777, new TextEncoder().encode(e.target), path)); break
      case 'chardev': parts.push(...record(ino, S_IFCHR | (e.mode ?? 0o600), new Uint8Array(0), path, [e.major, e.minor])); break
    }
  })
  parts.push(...record(0, 0, new Uint8Array(0), TRAILER))
  return Buffer.concat(parts)
}
