// Reads touchdown.yml, applies a stage's overrides, and validates, before anything talks to AWS.
// Every problem names the file, line, field and fix.
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { type Document, isMap, isScalar, LineCounter, parseDocument, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { isPlainObject } from '../core/ref.js';
import { closest } from '../core/stack.js';
import { liftBroker, type Manifest, manifestSchema } from './manifest.js';

export const DEFAULT_STAGE = 'production';

export interface LoadedManifest {
  path: string;
  stage: string;
  /** The stack this stage deploys to: <app>-<stage>. */
  stackName: string;
  manifest: Manifest;
}

export async function loadManifest(path: string, stage?: string): Promise<LoadedManifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EISDIR') {
      throw new ConfigError(
        `${path} is a directory, not a touchdown.yml: pass the file itself, e.g. --config ${join(path, 'touchdown.yml')}`,
      );
    }
    throw new ConfigError(
      `reading ${path}: ${(err as Error).message}; check that the file exists and is readable`,
    );
  }
  return parseManifest(text, path, stage);
}

export function parseManifest(text: string, path: string, stage?: string): LoadedManifest {
  const file = basename(path);
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  if (doc.errors.length > 0) {
    // A key indented too far raises two errors at one place; the second names the line at fault.
    const errors = doc.errors.filter(
      (e) =>
        e.code !== 'BLOCK_AS_IMPLICIT_KEY' ||
        !doc.errors.some((o) => o.code === 'MULTILINE_IMPLICIT_KEY' && o.pos[0] === e.pos[0]),
    );
    const problems = [...new Set(errors.map((e) => yamlProblem(e, text, lines, file)))];
    throw new ConfigError(problems.length === 1 ? problems[0]! : `${file} is not valid YAML`, problems);
  }
  const raw = doc.toJS() as unknown;
  if (raw === null || raw === undefined) {
    throw new ConfigError(
      `${file} is empty: it needs at least app: and django: (settings, wsgi); touchdown init writes one for your project`,
    );
  }
  if (!isPlainObject(raw)) {
    const found = Array.isArray(raw)
      ? 'a list (lines starting with "- ")'
      : `the single value ${JSON.stringify(raw)}`;
    throw new ConfigError(
      `${file}:1:1: the file holds ${found}; it must hold settings as "key: value" lines, starting with "app: mysite" (touchdown init writes one)`,
    );
  }

  const stages = isPlainObject(raw.stages) ? raw.stages : {};
  const chosen = stage ?? DEFAULT_STAGE;
  const known = [...new Set([DEFAULT_STAGE, ...Object.keys(stages)])];
  if (!known.includes(chosen)) {
    throw new ConfigError(
      `--stage ${chosen}: ${file} has no stage "${chosen}"; its stages are ${known.join(', ')}. ` +
        `To create it, declare it in ${file}: stages: { ${chosen}: {} } (with the values it overrides)`,
    );
  }
  // Every stage is checked, not only the one asked for: a fault in staging is found before production deploys.
  const problems: string[] = [];
  let data: Manifest | undefined;
  for (const name of [chosen, ...known.filter((k) => k !== chosen)]) {
    const override = isPlainObject(stages[name]) ? stages[name] : {};
    const result = manifestSchema.safeParse(liftBroker(deepMerge(raw, override)), { reportInput: true });
    if (result.success) {
      if (name === chosen) data = result.data;
      continue;
    }
    for (const issue of result.error.issues) {
      if (issue.path[0] === 'broker') issue.path.unshift('workers');
      const text = describe(issue, doc, lines, file, name, override);
      if (problems.includes(text)) continue;
      // A base value that only this stage's overrides make wrong: say which stage.
      const other = name !== chosen && !text.includes(`stages.${name}.`);
      const said = other ? `${text} (with stage ${name})` : text;
      if (!problems.includes(said)) problems.push(said);
    }
  }
  if (!data || problems.length > 0) {
    const unique = [...new Set(problems)];
    throw new ConfigError(unique.length === 1 ? unique[0]! : `${unique.length} problems in ${file}`, unique);
  }
  return { path, stage: chosen, stackName: `${data.app}-${chosen}`, manifest: data };
}

/** A YAML syntax error on the line where the fault is, with what to do about it. */
function yamlProblem(e: YAMLError, text: string, lines: LineCounter, file: string): string {
  const first = e.message.split('\n')[0]!;
  const at = (offset: number) => `${file}:${lines.linePos(offset).line}`;
  switch (e.code) {
    case 'MULTILINE_IMPLICIT_KEY': {
      // The line that breaks the mapping is where the error span ends: a key indented too far.
      const end = at(Math.max(e.pos[0], e.pos[1] - 1));
      return `${end}: this line is indented differently from the keys beside it: line it up with them`;
    }
    case 'BLOCK_AS_IMPLICIT_KEY':
      return `${at(e.pos[0])}: ${first}: a value holding ": " must be in quotes, e.g. key: "a: b"`;
    case 'BAD_INDENT':
    case 'MISSING_CHAR': {
      const closer = /end with an? (\S)|Missing closing (["'])quote/.exec(first);
      const char = closer?.[1] ?? closer?.[2];
      const opener = char
        ? ({ '}': '{', ']': '[', '"': '"', "'": "'" } as Record<string, string>)[char]
        : undefined;
      const opened = opener ? text.lastIndexOf(opener, e.pos[0] - 1) : -1;
      if (opener && opened >= 0) {
        return `${at(opened)}: the ${opener} opened here is never closed: add the closing ${char}`;
      }
      return `${at(e.pos[0])}: ${first}`;
    }
    case 'TAB_AS_INDENT':
      return `${at(e.pos[0])}: ${first}: indent with spaces`;
    case 'DUPLICATE_KEY':
      return `${at(e.pos[0])}: ${first}: this key appears twice at this level; keep one`;
    default:
      return `${at(e.pos[0])}: ${first}`;
  }
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
        const keyInStage = hasPath(override, [...path, key]);
        const keyPath = keyInStage ? ['stages', stage, ...path] : path;
        const keyWhere = locate(doc, lines, [...keyPath, key], file);
        const known = knownKeys(path);
        const near = closest(key, known);
        const fix = near
          ? `did you mean "${near}"?`
          : known.length > 0
            ? `the settings here are ${known.join(', ')}`
            : 'remove it';
        return `${keyWhere}: ${[...keyPath, key].join('.')}: unknown setting; ${fix}`;
      })
      .join('\n');
  }
  if (issue.code === 'invalid_type' && issue.input === undefined)
    return `${where}: ${field}: required (${issue.expected})`;
  const quoted = unquotedText(issue, doc, yamlPath);
  if (quoted) return `${where}: ${field}: ${quoted}`;
  if (issue.code === 'too_small' && issue.message.startsWith('Too small'))
    return `${where}: ${field}: use ${String(issue.minimum)} or more`;
  if (issue.code === 'too_big' && issue.message.startsWith('Too big'))
    return `${where}: ${field}: use at most ${String(issue.maximum)}`;
  if (issue.code === 'invalid_key') return `${where}: ${field}: ${issue.issues[0]?.message ?? issue.message}`;
  // A long list (the AWS regions) says it better in the schema's own message.
  if (issue.code === 'invalid_value' && issue.values.length <= 10)
    return `${where}: ${field}: use one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
  return `${where}: ${field}: ${issue.message}`;
}

/** A number or true/false where text is expected: YAML read it as such (3.10 is the number 3.1). */
function unquotedText(issue: z.core.$ZodIssue, doc: Document, yamlPath: string[]): string | undefined {
  const input = (issue as { input?: unknown }).input;
  if (typeof input !== 'number' && typeof input !== 'boolean') return undefined;
  const wantsText =
    (issue.code === 'invalid_type' && issue.expected === 'string') ||
    (issue.code === 'invalid_value' && issue.values.every((v) => typeof v === 'string'));
  if (!wantsText) return undefined;
  const node = doc.getIn(yamlPath, true) as { source?: string } | undefined;
  const written = node?.source ?? String(input);
  const read = String(input) === written ? '' : ` (YAML reads ${written} as ${String(input)})`;
  return `write it in quotes, "${written}": without them it is a ${typeof input}${read}`;
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
