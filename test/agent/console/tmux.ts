/**
 * Driving a terminal program as a person would: tmux runs it in a detached
 * session of a fixed size on a private server socket, send-keys types, and
 * capture-pane reads the screen back.
 */
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { systemTool } from '../../../agent/host/system-tools.ts'

const run = promisify(execFile)

export class TmuxSession {
  /** A server of our own, so a test never touches anyone's tmux. */
  private readonly socket = `heliotrope-test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`
  private readonly name = 'console'

  private async tmux (...args: string[]): Promise<string> {
    const { stdout } = await run(systemTool('tmux'), ['-L', this.socket, ...args])
    return stdout
  }

  async start (command: string[], size: { width: number, height: number }, env: Record<string, string> = {}): Promise<void> {
    const envArgs = Object.entries(env).flatMap(([k, v]) => ['-e', `${k}=${v}`])
    // remain-on-exit keeps the pane (and what the program last printed) after it exits.
    await this.tmux('new-session', '-d', '-s', this.name, '-x', String(size.width), '-y', String(size.height), ...envArgs, command.map(quote).join(' '))
    await this.tmux('set-option', '-t', this.name, 'remain-on-exit', 'on')
  }

  async keys (...keys: string[]): Promise<void> {
    await this.tmux('send-keys', '-t', this.name, ...keys)
  }

  /** Literal text, not key names. */
  async type (text: string): Promise<void> {
    await this.tmux('send-keys', '-t', this.name, '-l', text)
  }

  async screen (): Promise<string> {
    return await this.tmux('capture-pane', '-p', '-t', this.name)
  }

  /** True once the program in the pane has exited. */
  async exited (): Promise<boolean> {
    return (await this.tmux('display-message', '-p', '-t', this.name, '#{pane_dead}')).trim() === '1'
  }

  /** Polls the screen until `check` holds or `ms` passes; returns the last screen. */
  async waitForScreen (check: (screen: string) => boolean, ms: number, what: string): Promise<string> {
    const end = Date.now() + ms
    let screen = ''
    for (;;) {
      screen = await this.screen()
      if (check(screen)) return screen
      if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}; the screen:\n${screen}`)
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }

  async kill (): Promise<void> {
    await this.tmux('kill-server').catch(() => undefined)
  }
}

function quote (arg: string): string {
  return /^[\w@%+=:,./[\]-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`
}
