// Writes src/aws/registry.ts from the resource type files themselves: every `export const X =
// defineResourceType(` under src/aws/<service>/. A new type is its own file (and its test); this list follows.
//   npx tsx scripts/build-registry.ts        (src/aws/registry.test.ts fails while the list is out of date)
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const awsDir = fileURLToPath(new URL('../src/aws/', import.meta.url));
const DECLARATION = /^export const (\w+) = defineResourceType\(/gm;

/** The registry's source text, from the type files as they are now. */
export async function registrySource(): Promise<string> {
  const types: { name: string; path: string }[] = [];
  for (const service of (await readdir(awsDir, { withFileTypes: true })).filter((d) => d.isDirectory())) {
    const files = (await readdir(join(awsDir, service.name))).filter(
      (f) => f.endsWith('.ts') && !f.endsWith('.test.ts'),
    );
    for (const file of files.sort()) {
      const text = await readFile(join(awsDir, service.name, file), 'utf8');
      for (const m of text.matchAll(DECLARATION))
        types.push({ name: m[1]!, path: `./${service.name}/${file.replace(/\.ts$/, '.js')}` });
    }
  }
  // In the order Biome keeps imports: by path, a file before its longer-named siblings (vpc, vpc-endpoint).
  const key = (t: { name: string; path: string }) => `${t.path.replace(/\.js$/, '')}\0${t.name}`;
  types.sort((a, b) => (key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0));
  const imports = types.map((t) => `import { ${t.name} } from '${t.path}';`);
  return [
    '// Every resource type Touchdown manages, written by scripts/build-registry.ts from the type files: do',
    '// not edit. Plans look for undeclared types too, so that what a stack no longer declares is deleted.',
    "import type { AnyResourceType } from '../core/resource.js';",
    ...imports,
    '',
    'export const resourceTypes: readonly AnyResourceType[] = [',
    ...types.map((t) => `  ${t.name},`),
    '];',
    '',
  ].join('\n');
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const file = join(awsDir, 'registry.ts');
  await writeFile(file, await registrySource());
  console.log(`written: ${relative(process.cwd(), file)}`);
}
