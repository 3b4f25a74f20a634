/**
 * Removes a lab completely from its prefix alone: every process in its
 * namespaces, then the namespaces (and with them every interface, bridge,
 * qdisc and nftables table). Works after a crash, and when nothing is
 * there. Like Mininet's `mn -c`.
 */
import { deleteNamespaces, killNamespaceProcesses, labNamespaces } from './namespaces.ts'
import { checkLabPrefix } from './names.ts'

export interface DownReport {
  namespaces: number
  processes: number
}

export async function labDown (prefix: string): Promise<DownReport> {
  checkLabPrefix(prefix)
  const names = await labNamespaces(prefix)
  if (names.length === 0) return { namespaces: 0, processes: 0 }
  const processes = await killNamespaceProcesses(names)
  await deleteNamespaces(names)
  const left = await labNamespaces(prefix)
  if (left.length > 0) throw new Error(`could not delete ${left.join(', ')}`)
  return { namespaces: names.length, processes }
}
