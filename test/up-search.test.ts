// `touchdown up` with search: declared: no OpenSearch can be installed for the user, so up needs the URL of one
// (--opensearch-url, TOUCHDOWN_OPENSEARCH_URL or OPENSEARCH_URL) and, without it, says what to pass and starts nothing.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type LocalAws, startLocalAws } from './support/local-aws.js';
import {
  copyOfProject,
  processesOf,
  stateOf,
  touchdown,
  userEnv,
  venvPython,
} from './support/local-stack.js';
import { ensureServices } from './support/services.js';

const app = `xksearch${process.pid % 100000}`;
const stack = `${app}-local`;
let dir: string;
let aws: LocalAws;
let env: NodeJS.ProcessEnv;

const errorLines = (stderr: string) => stderr.split('\n').filter((l) => l.startsWith('error:'));

describe('touchdown up with search declared', () => {
  before(async () => {
    await ensureServices('postgres', 'redis');
    aws = await startLocalAws();
    env = userEnv({ TOUCHDOWN_LOCAL_AWS: aws.endpoint });
    dir = await copyOfProject('xkcd', app);
    const manifest = join(dir, 'touchdown.yml');
    await writeFile(manifest, `${await readFile(manifest, 'utf8')}\nsearch: {}\n`);
  });

  after(async () => {
    for (const pid of await processesOf(stack)) process.kill(pid, 'SIGKILL');
    await aws?.stop();
  });

  it('says to pass --opensearch-url and starts nothing without one', { timeout: 60_000 }, async () => {
    const r = await touchdown(['up', '--python', venvPython], dir, { ...env, OPENSEARCH_URL: '' });
    assert.equal(r.code, 1, r.stderr);
    const errors = errorLines(r.stderr);
    assert.equal(errors.length, 1, r.stderr);
    assert.match(
      errors[0]!,
      /^error: touchdown\.yml declares search, and touchdown up runs no OpenSearch: pass --opensearch-url http:\/\/localhost:9200 .*or set TOUCHDOWN_OPENSEARCH_URL$/,
    );
    assert.deepEqual(await processesOf(stack), []);
    assert.equal((await stateOf(dir, stack).catch(() => undefined))?.processes?.['web-1'], undefined);
  });

  it('names the flag when its URL is not one', { timeout: 60_000 }, async () => {
    const r = await touchdown(['up', '--python', venvPython, '--opensearch-url', 'localhost:9200'], dir, env);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, /error: --opensearch-url localhost:9200: write it like http:\/\/localhost:9200/);
    assert.deepEqual(await processesOf(stack), []);
  });
});
