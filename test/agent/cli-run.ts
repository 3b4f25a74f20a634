/** Runs the `heliotrope` CLI in a child process, for the command tests. */
import { spawn } from 'node:child_process'

const BIN = new URL('../../agent/bin/heliotrope.js', import.meta.url).pathname

export interface CliResult { code: number | null, out: string, err: string }

/** `stdin`: what the command reads from standard input (none: an empty one). */
export function heliotrope (args: string[], timeoutMs = 60_000, stdin?: string): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] })
    if (stdin !== undefined) child.stdin!.end(stdin)
    let out = ''; let err = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`heliotrope ${args.join(' ')} timed out; stdout:\n${out}\nstderr:\n${err}`)) }, timeoutMs)
    child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
    child.on('exit', code => { clearTimeout(timer); resolve({ code, out, err }) })
  })
}
