/**
 * Drivers as factories, after js-libp2p's components and init: a driver
 * module exports a function such as `qemu(init)` that returns a factory, and
 * the daemon calls the factory with what the host itself provides (its id
 * and address). The config names a driver by `kind`; a DriverRegistry maps
 * each kind to its config section's definition (a zod schema: the types,
 * the validation and the JSON Schema all come from it) and the factory it
 * makes, so neither the config nor the daemon knows the list of kinds.
 * agent/ registers the production drivers (drivers/index.ts); the lab
 * registers its own in addition.
 */
import { z } from 'zod'
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

/** A kind's section definition: a closed object whose `kind` is the kind's name as a literal. */
export type SectionSchema<S extends DriverSection> = z.ZodType<S> & z.core.$ZodTypeDiscriminable

/** One kind a config section may name. */
export interface DriverKind<S extends DriverSection, T> {
  /** The definition of a section of this kind (agent/config-issues.ts's closed(), `kind: z.literal(name)` among its fields). */
  readonly section: SectionSchema<S>
  /** The factory for a parsed section of this kind. */
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
 * The definition of a `collector` or `hypervisor` section: one of the
 * registered kinds, told apart by `kind`. An unknown kind is one issue (the
 * known kinds, and a hint when the kind lives elsewhere), not a cascade of
 * field errors against some other kind's fields.
 */
export function driverSectionSchema<T> (kinds: Readonly<Record<string, DriverKind<DriverSection, T>>>, elsewhere: Readonly<Record<string, string>> = {}): z.ZodType<DriverSection> {
  const names = Object.keys(kinds)
  for (const [name, k] of Object.entries(kinds)) {
    // The union tells sections apart by their literal kind; the errors and the daemon go by the registry's name.
    if (k.section._zod.propValues?.kind?.has(name) !== true) throw new Error(`driver kind ${name}: its section's kind must be the literal ${JSON.stringify(name)}`)
  }
  const sections = Object.values(kinds).map(k => k.section)
  const [first, ...rest] = sections
  if (first === undefined) throw new Error('a driver registry needs at least one kind of each')
  const known = `one of ${names.map(k => JSON.stringify(k)).join(', ')}`
  return z.discriminatedUnion('kind', [first, ...rest], {
    error: iss => {
      if (iss.code !== 'invalid_union') return undefined
      const input: unknown = iss.input
      const kind = typeof input === 'object' && input !== null ? (input as Record<string, unknown>).kind : undefined
      return typeof kind === 'string' && Object.hasOwn(elsewhere, kind) ? `${known} (${kind} is ${elsewhere[kind]})` : known
    }
  })
}

/** The registered kind of a parsed section; throws when the registry lacks it (a config parsed with another registry). */
export function driverKind<T> (what: string, kinds: Readonly<Record<string, DriverKind<DriverSection, T>>>, section: DriverSection, elsewhere: Readonly<Record<string, string>> = {}): DriverKind<DriverSection, T> {
  if (Object.hasOwn(kinds, section.kind)) return kinds[section.kind]!
  const hint = Object.hasOwn(elsewhere, section.kind) ? `: ${section.kind} is ${elsewhere[section.kind]}` : ''
  throw new Error(`${what} driver ${JSON.stringify(section.kind)} is not in this build (known: ${Object.keys(kinds).join(', ')})${hint}`)
}
