/** Runs the `heliotrope` CLI in a child process, for the command tests. */
import { spawn } from 'node:child_process'

const BIN = new URL('../../agent/bin/heliotrope.js', import.meta.url).pathname

export interface CliResult { code: number | null, out: string, err: string }

export function heliotrope (args: string[], timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''; let err = ''
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`heliotrope ${args.join(' ')} timed out; stdout:\n${out}\nstderr:\n${err}`)) }, timeoutMs)
    child.stdout.on('data', (d: Buffer) => { out += d.toString() })
    child.stderr.on('data', (d: Buffer) => { err += d.toString() })
    child.on('exit', code => { clearTimeout(timer); resolve({ code, out, err }) })
  })
}
