/**
 * The agent's modes, from watching to acting. Defined here, in the pure
 * core, because cluster settings (lib/settings.ts) carry a mode on the wire
 * and lib may not import the agent; agent/policy/mode.ts re-exports them
 * with what each mode allows.
 */
export const MODES = ['observe', 'dry-run', 'approve', 'auto'] as const
export type Mode = typeof MODES[number]
