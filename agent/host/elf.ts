/**
 * Whether an ELF binary is statically linked (no PT_INTERP program header):
 * the test guest's initramfs holds busybox alone, with no loader or libc.
 */
import { open } from 'node:fs/promises'

const PT_INTERP = 3

export async function isStaticElf (path: string): Promise<boolean> {
  const f = await open(path, 'r')
  try {
    const head = Buffer.alloc(64)
    await f.read(head, 0, 64, 0)
    if (head.readUInt32BE(0) !== 0x7f454c46 || head[4] !== 2) return false // ELF64 only (x86_64 hosts)
    const phoff = Number(head.readBigUInt64LE(0x20))
    const phentsize = head.readUInt16LE(0x36)
    const phnum = head.readUInt16LE(0x38)
    const table = Buffer.alloc(phentsize * phnum)
    await f.read(table, 0, table.length, phoff)
    for (let i = 0; i < phnum; i++) if (table.readUInt32LE(i * phentsize) === PT_INTERP) return false
    return true
  } finally {
    await f.close()
  }
}
