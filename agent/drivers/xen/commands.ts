/**
 * The xl command lines of the Xen driver.
 *
 * Transport: `xl migrate DOMAIN HOST` runs `ssh HOST xl migrate-receive` on
 * the sending host and streams the domain through that ssh connection
 * (xl's default; tools/xl/xl_migrate.c). So the target needs sshd and xl,
 * and root on the source needs a key the target's root accepts (the same
 * trust model as the libvirt driver's default qemu+ssh). HOST is
 * root@ADDRESS with the target's IPv6 address unbracketed, as ssh takes it.
 * The ssh command is xl's -s option; by default BatchMode, so a missing
 * key fails at once instead of waiting for a password. xl migrate is always
 * live (its --live is ignored) and reports no downtime or byte count.
 */
import { isIPv6 } from 'node:net'
import { HypervisorError } from '../types.ts'

export const DEFAULT_XL = 'xl'
export const DEFAULT_SSH_COMMAND = 'ssh -o BatchMode=yes'
export const DEFAULT_SSH_USER = 'root'
/** Names xl will not read as options and the shell xl hands HOST to cannot misread. */
const SAFE_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/

export function checkDomainName (name: string): string {
  if (!SAFE_NAME.test(name)) throw new HypervisorError(`domain name ${JSON.stringify(name)} is not one this driver passes to xl (letters, digits, _ . + -, not starting with -)`)
  return name
}

/** xl's HOST argument: user@address, checked, because xl hands it to sh. */
export function sshHost (user: string, address: string): string {
  if (!isIPv6(address)) throw new HypervisorError(`migration target ${address} is not an IPv6 address`)
  if (!/^[a-z_][a-z0-9_-]*$/.test(user)) throw new HypervisorError(`ssh user ${JSON.stringify(user)} is not a plain user name`)
  return `${user}@${address}`
}

export function migrateArgs (m: { domain: string, address: string, sshCommand: string, sshUser: string }): string[] {
  return ['migrate', '-s', m.sshCommand, checkDomainName(m.domain), sshHost(m.sshUser, m.address)]
}
