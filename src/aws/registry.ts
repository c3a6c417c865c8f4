// Every resource type Touchdown manages, found in the type files themselves (src/aws/<service>/*.ts, each
// exporting its `defineResourceType`): a new type is its own file and its test, nothing else. Plans look for
// types a stack does not declare too, so that what it no longer declares is deleted.
import { readdirSync, readFileSync } from 'node:fs';
import type { AnyResourceType } from '../core/resource.js';

/** Run from the sources (tsx) or the build: the type files end as this one does. */
const extension = new URL(import.meta.url).pathname.endsWith('.ts') ? '.ts' : '.js';

function isResourceType(value: unknown): value is AnyResourceType {
  const t = value as Partial<AnyResourceType> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.kind === 'string' &&
    typeof t.fields === 'object' &&
    typeof t.find === 'function' &&
    typeof t.create === 'function' &&
    typeof t.delete === 'function'
  );
}

/** The files of every service folder beside this one that declare a type, in a stable order. */
const here = new URL('.', import.meta.url);

function typeFiles(): string[] {
  return (
    readdirSync(here, { withFileTypes: true })
      .filter((d) => d.isDirectory())
      .flatMap((d) =>
        readdirSync(new URL(`${d.name}/`, here))
          .filter((f) => f.endsWith(extension) && !f.endsWith(`.test${extension}`) && !f.endsWith('.d.ts'))
          .map((f) => `./${d.name}/${f}`),
      )
      // Only those that declare one are loaded: helpers (a service's common.ts, run-task.ts) load with their users.
      .filter((f) => readFileSync(new URL(f, here), 'utf8').includes('defineResourceType('))
      .sort()
  );
}

const modules = await Promise.all(typeFiles().map((f) => import(f) as Promise<Record<string, unknown>>));

export const resourceTypes: readonly AnyResourceType[] = [
  ...new Set(modules.flatMap((m) => Object.values(m).filter(isResourceType))),
];
