/** Reads a recorded virsh output (see fixtures/SOURCES.md). */
import { readFile } from 'node:fs/promises'

export async function fixture (name: string): Promise<string> {
  return await readFile(new URL(`./fixtures/${name}`, import.meta.url), 'utf8')
}
