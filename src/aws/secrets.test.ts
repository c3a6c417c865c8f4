// Generated and declared secrets never leave AWS: not in plans, not in engine events, not on disk.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { assertNoChanges, useLocalAws } from '../../test/support/harness.js';
import { repoRoot } from '../../test/support/paths.js';
import type { Plan } from '../core/plan.js';
import { Secret } from './secretsmanager/secret.js';
import { SsmParameter } from './ssm/parameter.js';
import { AwsStack } from './stack.js';

const t = useLocalAws({ declaredTypesOnly: true });

const PARAM = '/xkcd/prod/SECRET_KEY';
const SECRET = 'xkcd/prod/db-password';

function config(values: { param?: string; secret?: string } = {}) {
  const aws = new AwsStack('secrets-test');
  aws.add(SsmParameter, { name: PARAM, type: 'SecureString', value: values.param });
  aws.add(Secret, { name: SECRET, value: values.secret, generate: { excludePunctuation: true } });
  return aws;
}

async function stored(): Promise<{ param: string; secret: string }> {
  const { Parameter } = await t.boto.call('ssm', 'GetParameter', { Name: PARAM, WithDecryption: true });
  const { SecretString } = await t.boto.call('secretsmanager', 'GetSecretValue', { SecretId: SECRET });
  return { param: Parameter.Value, secret: SecretString };
}

/** Every file under the repository's .touchdown/ directory, if there is one. */
function touchdownFiles(dir = join(repoRoot, '.touchdown')): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? touchdownFiles(path) : [path];
  });
}

function assertNowhere(values: string[], plans: Plan[]) {
  const places: [string, string][] = [
    ...plans.map((p, i): [string, string] => [`plan ${i + 1}`, JSON.stringify(p)]),
    ['engine events', JSON.stringify(t.events)],
    ...touchdownFiles().map((f): [string, string] => [f, readFileSync(f, 'latin1')]),
  ];
  for (const value of values) {
    for (const [where, text] of places)
      assert.ok(!text.includes(value), `a secret value appears in ${where}`);
  }
}

describe('secret values', () => {
  it('are generated once, kept, and never appear in plans, events or files', async () => {
    const first = await t.apply(config());
    const generated = await stored();
    assert.match(generated.param, /^[A-Za-z0-9_-]{43}$/);
    assert.match(generated.secret, /^[A-Za-z0-9]{32}$/, 'no punctuation, as asked');
    const create = first.resources.find((r) => r.address === `ssm-parameter.${PARAM}`)!;
    assert.equal(
      create.changes.find((c) => c.name === 'value'),
      undefined,
      'nothing to show before it exists',
    );

    const replan = await t.plan(config());
    assertNoChanges(replan);
    const second = await t.apply(config());
    assert.deepEqual(await stored(), generated, 'a second apply regenerates nothing');
    assertNowhere([generated.param, generated.secret], [first, replan, second]);
  });

  it('declared values changed outside Touchdown show masked, and are put back', async () => {
    const declared = { param: 'declared-param-value', secret: 'declared-secret-value' };
    const first = await t.apply(config(declared));
    assert.deepEqual(await stored(), declared);
    await t.boto.call('ssm', 'PutParameter', {
      Name: PARAM,
      Value: 'tampered-param-value',
      Type: 'SecureString',
      Overwrite: true,
    });
    await t.boto.call('secretsmanager', 'PutSecretValue', {
      SecretId: SECRET,
      SecretString: 'tampered-secret-value',
    });
    const plan = await t.plan(config(declared));
    for (const r of plan.resources) {
      assert.equal(r.action, 'update');
      assert.deepEqual(r.changes, [
        { name: 'value', before: { sensitive: true }, after: { sensitive: true } },
      ]);
    }
    const applied = await t.apply(config(declared));
    assert.deepEqual(await stored(), declared);
    assertNoChanges(await t.plan(config(declared)));
    assertNowhere(
      [...Object.values(declared), 'tampered-param-value', 'tampered-secret-value'],
      [first, plan, applied],
    );
  });
});
