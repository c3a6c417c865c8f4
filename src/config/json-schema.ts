// The manifest's JSON Schema, for editors: `# yaml-language-server: $schema=...` at the top of touchdown.yml.
import { z } from 'zod';
import { manifestSchema } from './manifest.js';

export function manifestJsonSchema(): Record<string, unknown> {
  return {
    ...z.toJSONSchema(manifestSchema, { io: 'input', unrepresentable: 'any' }),
    $id: 'https://touchdown.dev/schema/touchdown.schema.json',
    title: 'touchdown.yml',
    description: 'A Django application on AWS, and on your laptop, with Touchdown.',
  };
}
