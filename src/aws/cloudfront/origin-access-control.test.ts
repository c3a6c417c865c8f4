import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { actions, assertNoChanges, useLocalAws } from '../../../test/support/harness.js';
import type { ArgsInput } from '../../core/args.js';
import type { Plan } from '../../core/plan.js';
import type { Stack } from '../../core/stack.js';
import { AwsStack } from '../stack.js';
import { OriginAccessControl, oacName } from './origin-access-control.js';

const t = useLocalAws({ declaredTypesOnly: true });

// Only this type: the other types' finds (IAM's above all) would double each test's time.
const registry = [OriginAccessControl];

async function apply(stack: Stack): Promise<Plan> {
  const { plan, report } = await t.engine(stack, { registry }).apply();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

async function planOf(stack: Stack): Promise<Plan> {
  return (await t.engine(stack, { registry }).plan()).plan;
}

async function destroy(stack: Stack): Promise<Plan> {
  const { plan, report } = await t.engine(stack, { registry }).destroy();
  assert.deepEqual(report?.failed ?? [], [], 'no operation fails');
  return plan;
}

type OacArgs = ArgsInput<typeof OriginAccessControl.fields>;

function stack(overrides: Partial<OacArgs> = {}, extra: OacArgs[] = []) {
  const aws = new AwsStack('oac-test');
  aws.add(OriginAccessControl, { name: 'static', description: 'static files', ...overrides });
  for (const args of extra) aws.add(OriginAccessControl, args);
  return aws;
}

interface OacSummary {
  Id: string;
  Name: string;
  Description: string;
  SigningProtocol: string;
  SigningBehavior: string;
  OriginAccessControlOriginType: string;
}

async function controls(): Promise<OacSummary[]> {
  const { OriginAccessControlList } = await t.boto.call('cloudfront', 'ListOriginAccessControls');
  return ((OriginAccessControlList.Items ?? []) as OacSummary[]).sort((a, b) => a.Name.localeCompare(b.Name));
}

describe('CloudFront origin access control', () => {
  it('is created under a name that starts with the stack, signing always with SigV4, and re-plans to nothing', async () => {
    const plan = await apply(stack());
    assert.equal(actions(plan)['origin-access-control.static'], 'create');
    const [oac, ...others] = await controls();
    assert.equal(others.length, 0);
    assert.deepEqual(
      { ...oac, Id: undefined },
      {
        Id: undefined,
        Name: 'oac-test.us-east-1.static',
        Description: 'static files',
        SigningProtocol: 'sigv4',
        SigningBehavior: 'always',
        OriginAccessControlOriginType: 's3',
      },
    );
    assertNoChanges(await planOf(stack()));
  });

  it('is found with one list call for all of them', async () => {
    const two = () => stack({}, [{ name: 'media' }]);
    await apply(two());
    const aws = t.aws.clients();
    const { plan } = await t.engine(two(), { aws, registry: [OriginAccessControl] }).plan();
    assertNoChanges(plan);
    assert.deepEqual(
      aws.calls.map((c) => c.operation),
      ['ListOriginAccessControls'],
    );
  });

  it('updates its description in place', async () => {
    await apply(stack());
    const [before] = await controls();
    const plan = await planOf(stack({ description: 'Django static files' }));
    assert.equal(actions(plan)['origin-access-control.static'], 'update');
    await apply(stack({ description: 'Django static files' }));
    const [after] = await controls();
    assert.equal(after!.Id, before!.Id);
    assert.equal(after!.Description, 'Django static files');
    assertNoChanges(await planOf(stack({ description: 'Django static files' })));
  });

  // The name is also what finds it: a new name is a new origin access control, and the old one goes.
  it('is replaced by a new one when renamed, and the plan says why the old one goes', async () => {
    await apply(stack());
    const [before] = await controls();
    const plan = await planOf(stack({ name: 'assets' }));
    assert.equal(actions(plan)['origin-access-control.assets'], 'create');
    const old = plan.resources.find((r) => r.address === 'origin-access-control.static')!;
    assert.equal(old.action, 'delete');
    assert.equal(old.reason, 'no longer declared');
    await apply(stack({ name: 'assets' }));
    const after = await controls();
    assert.deepEqual(
      after.map((o) => o.Name),
      ['oac-test.us-east-1.assets'],
    );
    assert.notEqual(after[0]!.Id, before!.Id);
  });

  it("leaves alone other stacks' origin access controls, even of a stack whose name starts with this one's", async () => {
    for (const Name of ['someone-else', 'oac-test-staging.static']) {
      await t.boto.call('cloudfront', 'CreateOriginAccessControl', {
        OriginAccessControlConfig: {
          Name,
          SigningProtocol: 'sigv4',
          SigningBehavior: 'always',
          OriginAccessControlOriginType: 's3',
        },
      });
    }
    await apply(stack());
    await destroy(stack());
    assert.deepEqual(
      (await controls()).map((o) => o.Name),
      ['oac-test-staging.static', 'someone-else'],
    );
  });

  it("cuts long names to CloudFront's 64 characters, keeping two long names apart", () => {
    const a = oacName(
      'radpress-production',
      'us-east-1',
      'static-files-for-the-django-admin-and-the-public-site',
    );
    const b = oacName(
      'radpress-production',
      'us-east-1',
      'static-files-for-the-django-admin-and-the-private-site',
    );
    assert.ok(a.length <= 64 && b.length <= 64, `${a} ${b}`);
    assert.notEqual(a, b);
    assert.match(a, /^radpress-production\.us-east-1\.static-files-/);
  });

  it('is created again after being deleted outside Touchdown', async () => {
    await apply(stack());
    const [oac] = await controls();
    const { ETag } = await t.boto.call('cloudfront', 'GetOriginAccessControl', { Id: oac!.Id });
    await t.boto.call('cloudfront', 'DeleteOriginAccessControl', { Id: oac!.Id, IfMatch: ETag });
    assert.equal(actions(await planOf(stack()))['origin-access-control.static'], 'create');
    await apply(stack());
    assert.equal((await controls()).length, 1);
  });

  it('is put back after its description is changed outside Touchdown', async () => {
    await apply(stack());
    const [oac] = await controls();
    const { ETag } = await t.boto.call('cloudfront', 'GetOriginAccessControl', { Id: oac!.Id });
    await t.boto.call('cloudfront', 'UpdateOriginAccessControl', {
      Id: oac!.Id,
      IfMatch: ETag,
      OriginAccessControlConfig: {
        Name: oac!.Name,
        Description: 'changed by hand',
        SigningProtocol: 'sigv4',
        SigningBehavior: 'always',
        OriginAccessControlOriginType: 's3',
      },
    });
    const plan = await planOf(stack());
    assert.deepEqual(plan.resources[0]!.changes, [
      { name: 'description', before: 'changed by hand', after: 'static files' },
    ]);
    await apply(stack());
    assert.equal((await controls())[0]!.Description, 'static files');
  });

  it('is deleted by destroy', async () => {
    await apply(stack({}, [{ name: 'media' }]));
    const plan = await destroy(stack({}, [{ name: 'media' }]));
    assert.equal(actions(plan)['origin-access-control.static'], 'delete');
    assert.equal(actions(plan)['origin-access-control.media'], 'delete');
    assert.deepEqual(await controls(), []);
  });
});
