// AWS managed policies exist in the local AWS as in every AWS account, with no setting asked for
// (scripts/local_aws/managed_policies.py), and each account's use of them goes with a reset.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { useLocalAws } from './support/harness.js';

const t = useLocalAws();
const READ_ONLY = 'arn:aws:iam::aws:policy/ReadOnlyAccess';
const LAMBDA_LOGS = 'arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole';
const trust = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { Service: 'ec2.amazonaws.com' }, Action: 'sts:AssumeRole' }],
});

async function attachmentCount(arn: string): Promise<number> {
  return (await t.boto.call('iam', 'GetPolicy', { PolicyArn: arn })).Policy.AttachmentCount;
}

it('answers for AWS managed policies: get, its document, attach, list attached, and a name AWS lacks', async () => {
  const { Policy } = await t.boto.call('iam', 'GetPolicy', { PolicyArn: LAMBDA_LOGS });
  assert.equal(Policy.Arn, LAMBDA_LOGS);
  assert.equal(Policy.Path, '/service-role/');
  const { PolicyVersion } = await t.boto.call('iam', 'GetPolicyVersion', {
    PolicyArn: LAMBDA_LOGS,
    VersionId: Policy.DefaultVersionId,
  });
  assert.equal(PolicyVersion.IsDefaultVersion, true);
  const document = JSON.stringify(PolicyVersion.Document);
  assert.match(document, /logs:PutLogEvents/, 'the document is the policy AWS publishes');

  await t.boto.call('iam', 'CreateRole', { RoleName: 'app', AssumeRolePolicyDocument: trust });
  await t.boto.call('iam', 'AttachRolePolicy', { RoleName: 'app', PolicyArn: READ_ONLY });
  await t.boto.call('iam', 'AttachRolePolicy', { RoleName: 'app', PolicyArn: LAMBDA_LOGS });
  const { AttachedPolicies } = await t.boto.call('iam', 'ListAttachedRolePolicies', { RoleName: 'app' });
  assert.deepEqual((AttachedPolicies as { PolicyArn: string }[]).map((p) => p.PolicyArn).sort(), [
    READ_ONLY,
    LAMBDA_LOGS,
  ]);
  assert.equal(await attachmentCount(READ_ONLY), 1);

  assert.equal(
    await t.boto.errorOf('iam', 'AttachRolePolicy', {
      RoleName: 'app',
      PolicyArn: 'arn:aws:iam::aws:policy/NoSuchPolicyAtAws',
    }),
    'NoSuchEntity',
  );
  await t.boto.call('iam', 'DetachRolePolicy', { RoleName: 'app', PolicyArn: READ_ONLY });
  assert.equal(await attachmentCount(READ_ONLY), 0);
});

it('lists them with scope AWS, never with scope Local, and a reset forgets this account attached one', async () => {
  await t.boto.call('iam', 'CreateRole', { RoleName: 'app', AssumeRolePolicyDocument: trust });
  await t.boto.call('iam', 'AttachRolePolicy', { RoleName: 'app', PolicyArn: READ_ONLY });
  await t.boto.call('iam', 'CreatePolicy', {
    PolicyName: 'own',
    PolicyDocument: JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
    }),
  });
  const arns: string[] = [];
  let Marker: string | undefined;
  do {
    const page = await t.boto.call('iam', 'ListPolicies', { Scope: 'AWS', ...(Marker ? { Marker } : {}) });
    arns.push(...(page.Policies as { Arn: string }[]).map((p) => p.Arn));
    Marker = page.IsTruncated ? page.Marker : undefined;
  } while (Marker);
  assert.ok(arns.includes(READ_ONLY) && arns.includes(LAMBDA_LOGS), 'scope AWS lists AWS managed policies');
  assert.ok(arns.length > 1000, `AWS manages over a thousand policies (listed ${arns.length})`);
  assert.equal(new Set(arns).size, arns.length, 'each once, the one already attached too');
  assert.ok(!arns.some((arn) => arn.endsWith(':policy/own')), 'the account’s own policy is not AWS’s');
  const local = await t.boto.call('iam', 'ListPolicies', { Scope: 'Local' });
  assert.deepEqual(
    (local.Policies as { PolicyName: string }[]).map((p) => p.PolicyName),
    ['own'],
  );

  await t.aws.reset();
  assert.equal(await attachmentCount(READ_ONLY), 0, 'a reset account has attached nothing');
});
