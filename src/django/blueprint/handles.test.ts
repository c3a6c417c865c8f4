// The blueprint's handles: what deploy, operations, one-off tasks and `up` act on is reached through them,
// never through address strings, so that renaming a resource in the blueprint cannot silently detach them.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { repoRoot } from '../../../test/support/paths.js';
import { resourceTypes } from '../../aws/registry.js';
import { AwsStack } from '../../aws/stack.js';
import { parseManifest } from '../../config/load-manifest.js';
import { Resource } from '../../core/resource.js';
import { type AppHandles, awsBlueprint, handlesOf } from './index.js';

const root = repoRoot;
const src = join(root, 'src');
const xkcdPath = join(root, 'examples', 'xkcd', 'touchdown.yml');
const IMAGE = '123456789012.dkr.ecr.us-east-1.amazonaws.com/xkcd:1';
const options = { region: 'us-east-1', account: '123456789012', zones: ['us-east-1a', 'us-east-1b'] };

async function xkcd(change: (doc: Record<string, unknown>) => void = () => {}) {
  const doc = parse(await readFile(xkcdPath, 'utf8'));
  change(doc);
  return parseManifest(stringify(doc), xkcdPath);
}

/** Every resource a handles record holds, however deep. */
function resourcesIn(value: unknown): Resource[] {
  if (value instanceof Resource) return [value];
  if (Array.isArray(value)) return value.flatMap(resourcesIn);
  if (typeof value === 'object' && value !== null) return Object.values(value).flatMap(resourcesIn);
  return [];
}

function assertDeclared(stack: AwsStack, handles: AppHandles) {
  const held = resourcesIn(handles);
  assert.ok(held.length > 0);
  for (const r of held) assert.ok(stack.resources.includes(r), `${r.address} is a handle but not declared`);
}

describe('the blueprint handles', () => {
  it('names the resources of a Fargate release, each declared in the stack', async () => {
    const stack = awsBlueprint(await xkcd(), { ...options, image: IMAGE });
    const h = handlesOf(stack);
    assertDeclared(stack, h);
    assert.equal(h.database?.type.kind, 'db-instance');
    assert.equal(h.containers?.cluster.type.kind, 'ecs-cluster');
    assert.deepEqual(Object.keys(h.containers?.taskDefinitions ?? {}).sort(), ['release', 'web']);
    assert.deepEqual(Object.keys(h.containers?.services ?? {}), ['web']);
    assert.equal(h.app.subnets.length, 2);
    assert.equal(h.lambda, undefined);
  });

  it('holds no task definition before the first image, but the database and cluster already', async () => {
    const stack = awsBlueprint(await xkcd(), options);
    const h = handlesOf(stack);
    assertDeclared(stack, h);
    assert.deepEqual(h.containers?.taskDefinitions, {});
    assert.ok(h.database && h.containers?.repository);
  });

  it('names the function, its alias and the artifacts bucket on Lambda', async () => {
    const loaded = await xkcd((doc) => {
      doc.web = { compute: 'lambda' };
      doc.network = { nat: 'gateway' };
      delete doc.stages;
    });
    const stack = awsBlueprint(loaded, { ...options, image: 's3://artifacts-bucket/lambda/abc.zip' });
    const h = handlesOf(stack);
    assertDeclared(stack, h);
    assert.equal(h.lambda?.fn?.type.kind, 'lambda-function');
    assert.equal(h.lambda?.alias?.type.kind, 'lambda-alias');
    assert.equal(h.lambda?.artifacts.type.kind, 'bucket');
    assert.equal(h.containers, undefined);
  });

  it('refuses a stack the blueprint did not make', () => {
    assert.throws(() => handlesOf(new AwsStack('hand-made')), /hand-made: not a touchdown\.yml blueprint/);
  });
});

// A literal starting with a resource kind and a dot ('db-instance.db', `lambda-function.${name}`): an address.
const kinds = [...new Set(resourceTypes.map((t) => t.kind))].sort((a, b) => b.length - a.length);
const addressLiteral = new RegExp(`(['"\`])(${kinds.map((k) => k.replace(/-/g, '\\-')).join('|')})\\.`);

/** Address-looking literals in code (comments aside), except a resource type's own kind in its own file. */
function addressLiterals(file: string, text: string): string[] {
  const own = /kind: '([a-z0-9-]+)'/.exec(text)?.[1];
  return text.split('\n').flatMap((line, i) => {
    const code = line.trim();
    if (code.startsWith('//') || code.startsWith('*') || code.startsWith('/*')) return [];
    const m = addressLiteral.exec(code);
    return m && m[2] !== own ? [`${file}:${i + 1}: ${code}`] : [];
  });
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const path = join(dir, d.name);
    if (d.isDirectory()) return sources(path);
    return d.name.endsWith('.ts') && !d.name.endsWith('.test.ts') ? [path] : [];
  });
}

describe('addresses outside the blueprint', () => {
  it('finds an address literal where one is written', () => {
    assert.equal(addressLiterals('x.ts', "const db = world.outputs.get('db-instance.db');").length, 1);
    assert.equal(addressLiterals('x.ts', 'a.startsWith(`lambda-function.` + name)').length, 1);
    assert.equal(addressLiterals('x.ts', "if (e.type === 'op.start') return;").length, 0);
  });

  it('finds none in src/ outside src/django/blueprint/: code reaches resources through the handles', () => {
    const blueprint = join(src, 'django', 'blueprint');
    const found = sources(src)
      .filter((f) => !f.startsWith(blueprint))
      .flatMap((f) => addressLiterals(relative(root, f), readFileSync(f, 'utf8')));
    assert.deepEqual(found, [], 'use the blueprint handles (handlesOf, outputsOf) instead');
  });
});
