/** `npm run schema`: writes agent/config.schema.json from the config's definition (agent/config.ts). */
import { writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CONFIG_SCHEMA_FILE, configJsonSchemaText } from '../config-json-schema.ts'

writeFileSync(CONFIG_SCHEMA_FILE, configJsonSchemaText())
process.stdout.write(`wrote ${fileURLToPath(CONFIG_SCHEMA_FILE)}\n`)
