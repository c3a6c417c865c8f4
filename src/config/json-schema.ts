// The manifest's JSON Schema, for editors: `# yaml-language-server: $schema=...` at the top of touchdown.yml.
import { z } from 'zod';
import { manifestSchema } from './manifest.js';

export function manifestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(manifestSchema, { io: 'input', unrepresentable: 'any' });
  // The broker is written as workers.broker (see liftBroker).
  const properties = schema.properties as Record<string, Record<string, unknown>>;
  const { broker, ...rest } = properties;
  properties.workers = { ...properties.workers, properties: { broker } };
  return {
    ...schema,
    properties: { ...rest, workers: properties.workers },
    $id: 'https://touchdown.dev/schema/touchdown.schema.json',
    title: 'touchdown.yml',
    description: 'A Django application on AWS, and on your laptop, with Touchdown.',
  };
}
