/** `heliotrope cluster set rules FILE`: the rule list from a JSON file, or standard input for "-", with clear errors. */
import { readFile } from 'node:fs/promises'
import { MAX_CLUSTER_RULES_BYTES } from '../../lib/cluster-rules.ts'

/** More than this is refused unread: the list's bound, with room for indentation and comments' absence. */
const MAX_FILE_BYTES = 8 * MAX_CLUSTER_RULES_BYTES

export async function readRulesFile (path: string): Promise<unknown> {
  let text: string
  try {
    text = path === '-' ? await readStdin() : await readFile(path, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new Error(`cannot read the rules from ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`)
  }
  if (text.length > MAX_FILE_BYTES) throw new Error(`${path}: ${text.length} bytes; a cluster's rules are at most ${MAX_CLUSTER_RULES_BYTES} bytes as compact JSON`)
  let json: unknown
  try {
    json = JSON.parse(text)
  } catch (err) {
    throw new Error(`${path} is not valid JSON: ${(err as Error).message}`)
  }
  if (!Array.isArray(json)) throw new Error(`${path}: expected a JSON list of placement rules ([{ "kind": "avoid", ... }]), found ${json === null ? 'null' : typeof json}`)
  return json
}

async function readStdin (): Promise<string> {
  const chunks: Buffer[] = []
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
  return Buffer.concat(chunks).toString('utf8')
}
