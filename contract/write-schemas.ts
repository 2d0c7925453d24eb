// npm run contract:schema: writes contract/schema/*.json from the zod schemas.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { contractSchemas, renderSchema } from './json-schema.ts';

const dir = join(dirname(fileURLToPath(import.meta.url)), 'schema');
mkdirSync(dir, { recursive: true });
for (const [file, schema] of Object.entries(contractSchemas())) writeFileSync(join(dir, file), renderSchema(schema));
console.log(`wrote ${Object.keys(contractSchemas()).length} schemas to ${dir}`);
