// Writes schema/touchdown.schema.json from the manifest's one schema (run by the build).
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { manifestJsonSchema } from '../src/config/json-schema.js';

const out = join(import.meta.dirname, '..', 'schema', 'touchdown.schema.json');
await writeFile(out, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
