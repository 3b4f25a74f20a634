/**
 * Drivers as factories, after js-libp2p's components and init: a driver
 * module exports a function such as `qemu(init)` that returns a factory, and
 * the daemon calls the factory with what the host itself provides (its id
 * and address). The config names a driver by `kind`; a DriverRegistry maps
 * each kind to how its config section is read and which factory it makes,
 * so neither the parser nor the daemon knows the list of kinds. agent/
 * registers the production drivers (drivers/index.ts); the lab registers
 * its own in addition.
 */
import { join, type Checker, type Json } from '../../lib/check.ts'
import type { HypervisorDriver, TrafficCollector } from './types.ts'

/** What a driver gets from the host rather than from its own config section. */
export interface DriverComponents {
  /** This host's id in the cluster. */
  host: string
  /** This host's IPv6 address for migrations. */
  address: string
}

/** A driver ready to build: `qemu(init)` returns one, the daemon calls it. */
export type DriverFactory<T> = (components: DriverComponents) => T
export type HypervisorFactory = DriverFactory<HypervisorDriver>
export type CollectorFactory = DriverFactory<TrafficCollector>

/** A parsed `hypervisor` or `collector` config section: its kind and that kind's own fields. */
export interface DriverSection {
  kind: string
}

/** One kind a config section may name. */
export interface DriverKind<S extends DriverSection, T> {
  /** Reads a section whose kind is this one (checking its fields, kind included); issues go to `c` under `path`. */
  read (c: Checker, path: string, section: Record<string, Json>): S
  /** The factory for a section read() returned. */
  factory (section: S): DriverFactory<T>
}

/**
 * The kinds a build knows. A method's parameters are compared bivariantly,
 * so a DriverKind<QemuSection, QemuDriver> is one of these without a cast.
 */
export interface DriverRegistry {
  hypervisors: Readonly<Record<string, DriverKind<DriverSection, HypervisorDriver>>>
  collectors: Readonly<Record<string, DriverKind<DriverSection, TrafficCollector>>>
  /** Kinds this build leaves out, each with where to find it: the error for a config naming one says so. */
  elsewhere?: Readonly<Record<string, string>>
}

/**
 * Reads the section at `path` with the kind it names. An unknown kind is one
 * issue (the known kinds, and a hint when the kind lives elsewhere), not a
 * cascade of field errors against some other kind's fields.
 */
export function readDriverSection<T> (c: Checker, path: string, value: Json, kinds: Readonly<Record<string, DriverKind<DriverSection, T>>>, elsewhere: Readonly<Record<string, string>> = {}): DriverSection {
  const o = c.object(path, value) ?? {}
  const kind = o.kind
  const known = typeof kind === 'string' && Object.hasOwn(kinds, kind) ? kinds[kind] : undefined
  if (known !== undefined) return known.read(c, path, o)
  const hint = typeof kind === 'string' && Object.hasOwn(elsewhere, kind) ? ` (${kind} is ${elsewhere[kind]})` : ''
  c.fail(join(path, 'kind'), `one of ${Object.keys(kinds).map(k => JSON.stringify(k)).join(', ')}${hint}`, kind)
  return { kind: typeof kind === 'string' ? kind : '' }
}

/** The registered kind of a parsed section; throws when the registry lacks it (a config parsed with another registry). */
export function driverKind<T> (what: string, kinds: Readonly<Record<string, DriverKind<DriverSection, T>>>, section: DriverSection, elsewhere: Readonly<Record<string, string>> = {}): DriverKind<DriverSection, T> {
  if (Object.hasOwn(kinds, section.kind)) return kinds[section.kind]!
  const hint = Object.hasOwn(elsewhere, section.kind) ? `: ${section.kind} is ${elsewhere[section.kind]}` : ''
  throw new Error(`${what} driver ${JSON.stringify(section.kind)} is not in this build (known: ${Object.keys(kinds).join(', ')})${hint}`)
}
