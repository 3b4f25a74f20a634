/**
 * agent/config.schema.json, made from the config's one definition
 * (agent/config.ts): `npm run schema` writes it, and a test checks that the
 * committed file is what the definition makes. The lab makes its own with
 * its driver registry (lab kinds added to production's).
 */
import { z } from 'zod'
import { integerInJsonSchema } from './config-issues.ts'
import { configSchema } from './config.ts'
import { PRODUCTION_DRIVERS } from './drivers/index.ts'
import type { DriverRegistry } from './drivers/kinds.ts'

/** Where the production schema lives, beside its definition. */
export const CONFIG_SCHEMA_FILE = new URL('./config.schema.json', import.meta.url)

export function configJsonSchema (drivers: DriverRegistry = PRODUCTION_DRIVERS): Record<string, unknown> {
  const generated = z.toJSONSchema(configSchema(drivers), { io: 'input', override: integerInJsonSchema })
  const { $schema, title, ...rest } = generated
  return {
    $schema,
    $id: 'heliotrope/agent/config.schema.json',
    title,
    description: 'The agent\'s JSON config. Generated from its definition in agent/config.ts by `npm run schema`: do not edit. Unknown fields are errors.',
    ...rest
  }
}

/** The file's text: the schema with two-space indents and a final newline. */
export function configJsonSchemaText (drivers: DriverRegistry = PRODUCTION_DRIVERS): string {
  return `${JSON.stringify(configJsonSchema(drivers), null, 2)}\n`
}
