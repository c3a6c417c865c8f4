// Reads touchdown.yml, applies a stage's overrides, and validates, before anything talks to AWS.
// Every problem names the file, line, field and fix.
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { type Document, isMap, isScalar, LineCounter, parseDocument } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { isPlainObject } from '../core/ref.js';
import { closest } from '../core/stack.js';
import { type Manifest, manifestSchema } from './manifest.js';

export const DEFAULT_STAGE = 'production';

export interface LoadedManifest {
  path: string;
  stage: string;
  /** The stack this stage deploys to: <app>-<stage>. */
  stackName: string;
  manifest: Manifest;
}

export async function loadManifest(path: string, stage?: string): Promise<LoadedManifest> {
  return parseManifest(await readFile(path, 'utf8'), path, stage);
}

export function parseManifest(text: string, path: string, stage?: string): LoadedManifest {
  const file = basename(path);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      `${file} is not valid YAML`,
      doc.errors.map((e) => `${file}:${lines.linePos(e.pos[0]).line}: ${e.message.split('\n')[0]}`),
    );
  }
  const raw = doc.toJS() as unknown;
  if (!isPlainObject(raw))
    throw new ConfigError(`${file}: expected settings such as "app: mysite", found ${typeof raw}`);

  const stages = isPlainObject(raw.stages) ? raw.stages : {};
  const chosen = stage ?? DEFAULT_STAGE;
  const declared = Object.keys(stages);
  if (stage !== undefined && declared.length > 0 && !declared.includes(stage)) {
    throw new ConfigError(`${file}: no stage "${stage}"; it declares ${declared.join(', ')}`);
  }
  const override = isPlainObject(stages[chosen]) ? stages[chosen] : {};
  const merged = deepMerge(raw, override);

  const result = manifestSchema.safeParse(merged, { reportInput: true });
  if (!result.success) {
    const problems = result.error.issues.map((issue) => describe(issue, doc, lines, file, chosen, override));
    throw new ConfigError(
      problems.length === 1 ? problems[0]! : `${problems.length} problems in ${file}`,
      problems,
    );
  }
  return { path, stage: chosen, stackName: `${result.data.app}-${chosen}`, manifest: result.data };
}

/** A stage's values replace the base's; maps merge key by key, lists and scalars are replaced whole. */
export function deepMerge(
  base: Record<string, unknown>,
  over: Record<string, unknown>,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    out[k] =
      isPlainObject(v) && isPlainObject(base[k]) ? deepMerge(base[k] as Record<string, unknown>, v) : v;
  }
  return out;
}

function describe(
  issue: z.core.$ZodIssue,
  doc: Document,
  lines: LineCounter,
  file: string,
  stage: string,
  override: Record<string, unknown>,
): string {
  const path = issue.path.map(String);
  // A value a stage overrides is reported where the stage sets it.
  const inStage = hasPath(override, path);
  const yamlPath = inStage ? ['stages', stage, ...path] : path;
  const where = locate(doc, lines, yamlPath, file);
  const field = (inStage ? yamlPath : path).join('.') || '(top level)';
  if (issue.code === 'unrecognized_keys') {
    return issue.keys
      .map((key) => {
        const keyWhere = locate(doc, lines, [...yamlPath, key], file);
        const known = knownKeys(path);
        const near = closest(key, known);
        const fix = near
          ? `did you mean "${near}"?`
          : known.length > 0
            ? `the settings here are ${known.join(', ')}`
            : 'remove it';
        return `${keyWhere}: ${[...(inStage ? yamlPath : path), key].join('.')}: unknown setting; ${fix}`;
      })
      .join('\n');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return `${where}: ${field}: required (${issue.expected})`;
  if (issue.code === 'invalid_value')
    return `${where}: ${field}: use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where}: ${field}: ${issue.message}`;
}

function knownKeys(path: string[]): string[] {
  let schema: unknown = manifestSchema;
  for (const p of path) {
    const shape = (schema as { shape?: Record<string, unknown> })?.shape;
    schema = unwrap(shape?.[p]);
  }
  const shape = (unwrap(schema) as { shape?: Record<string, unknown> })?.shape;
  return shape ? Object.keys(shape) : [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { unwrap?: () => unknown; def?: { innerType?: unknown; in?: unknown } } | undefined;
  for (let i = 0; i < 5 && s; i++) {
    const inner = s.def?.innerType ?? s.def?.in;
    if (!inner) break;
    s = inner as typeof s;
  }
  return s;
}

function hasPath(obj: unknown, path: string[]): boolean {
  let cur = obj;
  for (const p of path) {
    if (!isPlainObject(cur) || !(p in cur)) return false;
    cur = cur[p];
  }
  return path.length > 0;
}

/** file:line:column of the deepest node of the path that exists in the file. */
function locate(doc: Document, lines: LineCounter, path: string[], file: string): string {
  for (let n = path.length; n >= 0; n--) {
    const node = doc.getIn(path.slice(0, n), true) as { range?: [number, number, number] } | undefined;
    const keyNode = n > 0 ? keyOf(doc, path.slice(0, n)) : undefined;
    const offset = keyNode?.range?.[0] ?? node?.range?.[0];
    if (offset !== undefined) {
      const { line, col } = lines.linePos(offset);
      return `${file}:${line}:${col}`;
    }
  }
  return file;
}

function keyOf(doc: Document, path: string[]): { range?: [number, number, number] } | undefined {
  const parent = path.length === 1 ? doc.contents : doc.getIn(path.slice(0, -1), true);
  if (!isMap(parent)) return undefined;
  const pair = parent.items.find((p) => isScalar(p.key) && String(p.key.value) === path.at(-1));
  return pair?.key as { range?: [number, number, number] } | undefined;
}
