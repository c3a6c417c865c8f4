// AWS's published API models, as botocore ships them in the test virtualenv: one per service, found by the
// serviceId the SDK's clients carry, read once per process.
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

function sitePackages() {
  const lib = join(repoRoot, '.venv', 'lib');
  const python = readdirSync(lib).find((d) => d.startsWith('python'));
  if (!python) throw new Error(`conformance: no Python in ${lib}; run scripts/setup.sh`);
  return join(lib, python, 'site-packages');
}

const site = sitePackages();
const botocoreData = join(site, 'botocore', 'data');

/** The version of a package installed in the virtualenv, from its dist-info folder. */
export function installedVersion(distribution) {
  const prefix = `${distribution.replace(/-/g, '_')}-`;
  const info = readdirSync(site).find((d) => d.startsWith(prefix) && d.endsWith('.dist-info'));
  return info ? info.slice(prefix.length, -'.dist-info'.length) : 'unknown';
}

export const botocoreVersion = installedVersion('botocore');
const cacheDir = join(repoRoot, '.venv', '.conformance-cache');

/** Reads a cache file made from the virtualenv's packages, making it once (atomically) when missing. */
export function cached(name, make) {
  const file = join(cacheDir, name);
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    const value = make();
    mkdirSync(cacheDir, { recursive: true });
    const temporary = `${file}.${process.pid}`;
    writeFileSync(temporary, JSON.stringify(value));
    renameSync(temporary, file);
    return value;
  }
}

function latestModelFile(service) {
  const versions = readdirSync(join(botocoreData, service)).filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v));
  versions.sort();
  const latest = versions.at(-1);
  return latest ? join(botocoreData, service, latest, 'service-2.json.gz') : undefined;
}

/** serviceId (as the SDK's client config names it, e.g. "Elastic Load Balancing v2") -> botocore folder. */
// Paths relative to botocore's data folder: the cache outlives the checkout that made it (a virtualenv shared or moved).
const index = cached(`index-v2-${botocoreVersion}.json`, () => {
  const byServiceId = {};
  for (const service of readdirSync(botocoreData)) {
    let file;
    try {
      file = latestModelFile(service);
    } catch {
      continue;
    }
    if (!file) continue;
    let text;
    try {
      text = gunzipSync(readFileSync(file)).toString('utf8', 0, 8192);
    } catch {
      continue;
    }
    const id = /"serviceId"\s*:\s*"([^"]+)"/.exec(text)?.[1];
    if (id) byServiceId[id] = relative(botocoreData, file);
  }
  return byServiceId;
});

const models = new Map();

/** What the checks never read, and most of a model's size (EC2's: 3.9 MB of JSON, 1.4 MB without). */
const PROSE = new Set(['documentation', 'documentationUrl', 'deprecatedMessage', 'examples']);
const withoutProse = (key, value) => (PROSE.has(key) ? undefined : value);

/** The service's model ({ metadata, operations, shapes }), or undefined when botocore has none. */
export function modelFor(serviceId) {
  if (!models.has(serviceId)) {
    const file = index[serviceId];
    // Kept unzipped and without its prose, once per virtualenv: each test process reads several models.
    const read = () => JSON.parse(gunzipSync(readFileSync(join(botocoreData, file))), withoutProse);
    models.set(
      serviceId,
      file ? cached(`model-${botocoreVersion}-${file.split('/')[0]}.json`, read) : undefined,
    );
  }
  return models.get(serviceId);
}

const operations = new Map();

/** The shapes an input shape reaches, by name: all a check of that operation reads. */
function reachable(model, shapeName, shapes = {}) {
  const shape = model.shapes[shapeName];
  if (!shape || shapeName in shapes) return shapes;
  shapes[shapeName] = shape;
  const members = [
    ...Object.values(shape.members ?? {}),
    ...[shape.member, shape.key, shape.value].filter(Boolean),
  ];
  for (const member of members) reachable(model, member.shape, shapes);
  return shapes;
}

/**
 * One operation's part of its service's model ({ input, shapes }: its input shape and the shapes that reaches),
 * undefined when the model lacks it; null when botocore has no model of the service. Kept once per virtualenv,
 * so a process parses a few kilobytes per operation it calls instead of its services' whole models (EC2's:
 * 1.4 MB without prose).
 */
export function operationModel(serviceId, operation) {
  const key = `${serviceId}\0${operation}`;
  if (!operations.has(key)) {
    const file = index[serviceId];
    const make = () => {
      const spec = modelFor(serviceId).operations?.[operation];
      if (!spec) return { missing: true };
      const input = spec.input?.shape;
      return { input, shapes: input ? reachable(modelFor(serviceId), input) : {} };
    };
    const folder = file?.split('/')[0];
    const part = file ? cached(`operation-${botocoreVersion}-${folder}-${operation}.json`, make) : null;
    operations.set(key, part?.missing ? undefined : part);
  }
  return operations.get(key);
}

export { site as sitePackagesDir };
