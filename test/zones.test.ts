// Subnets go in the zones EC2 names for the account and region (ap-northeast-1 has no zone b, ca-central-1 has
// a, b and d), offering the instance types the stack launches; xkcd deploys there. Checked with boto3.
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { AwsClients } from '../src/aws/clients.js';
import { stackZones } from '../src/aws/ec2/zones.js';
import { parseManifest } from '../src/config/load-manifest.js';
import { ConfigError } from '../src/core/errors.js';
import { zoneNeeds } from '../src/django/blueprint/index.js';
import { deploy } from '../src/django/deploy.js';
import { Boto } from './support/boto.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot } from './support/paths.js';

const t = useLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' } });
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 };
const clients = (region: string) => new AwsClients({ region, endpoint: t.aws.endpoint, maxAttempts: 3 });

async function xkcd(edit: (text: string) => string = (s) => s) {
  const path = join(repoRoot, 'examples', 'xkcd', 'touchdown.yml');
  return parseManifest(edit(await readFile(path, 'utf8')), path);
}

describe('the zones of a stack', () => {
  it('are the region’s own, available and offering the instance types asked for', async () => {
    const fargate = { count: 2, instanceTypes: [] };
    assert.deepEqual(await stackZones(clients('ap-northeast-1'), fargate), [
      'ap-northeast-1a',
      'ap-northeast-1c',
    ]);
    assert.deepEqual(await stackZones(clients('ca-central-1'), { count: 3, instanceTypes: [] }), [
      'ca-central-1a',
      'ca-central-1b',
      'ca-central-1d',
    ]);
    // t3a is not offered in ap-northeast-1c (apne1-az1): the second zone is d.
    assert.deepEqual(
      await stackZones(clients('ap-northeast-1'), { count: 2, instanceTypes: ['t3a.micro'] }),
      ['ap-northeast-1a', 'ap-northeast-1d'],
    );
    // Six zones in us-east-1, but t4g.small is offered in five: asking for three skips none, asking for six fails.
    await assert.rejects(
      stackZones(clients('us-east-1'), { count: 6, instanceTypes: ['t4g.small'] }),
      (err: Error) =>
        err instanceof ConfigError &&
        /us-east-1 has 5 available zones offering t4g.small \(us-east-1a, .*us-east-1f\), and network.azs asks for 6/.test(
          err.message,
        ),
    );
  });

  it('asks for the instance types the stack launches (ec2 compute, NAT instance)', async () => {
    const ec2 = await xkcd((s) =>
      s
        .replace(/^web:\n/m, 'web:\n  compute: ec2\n  instanceType: t3a.micro\n')
        .replace(/^database:/m, 'network:\n  nat: instance\n  azs: 3\ndatabase:'),
    );
    assert.deepEqual(zoneNeeds(ec2.manifest), { count: 3, instanceTypes: ['t3a.micro', 't4g.nano'] });
    const fargate = await xkcd();
    assert.deepEqual(zoneNeeds(fargate.manifest).instanceTypes, []);
  });

  for (const region of ['ap-northeast-1', 'ca-central-1']) {
    it(`lets xkcd deploy to ${region}, its subnets in the zones EC2 names there`, async () => {
      const loaded = await xkcd();
      const aws = clients(region);
      const result = await deploy({
        loaded,
        aws,
        events: () => {},
        signal: new AbortController().signal,
        image: `123456789012.dkr.ecr.${region}.amazonaws.com/xkcd-production-app:v1`,
        timing,
      });
      assert.equal(result.status, 'deployed', result.message);
      const boto = new Boto(t.aws.endpoint, region);
      try {
        const { Subnets } = await boto.call('ec2', 'DescribeSubnets', {
          Filters: [{ Name: 'tag:touchdown:stack', Values: ['xkcd-production'] }],
        });
        const zones = [
          ...new Set((Subnets as { AvailabilityZone: string }[]).map((s) => s.AvailabilityZone)),
        ];
        const expected =
          region === 'ap-northeast-1'
            ? ['ap-northeast-1a', 'ap-northeast-1c']
            : ['ca-central-1a', 'ca-central-1b'];
        assert.deepEqual(zones.sort(), expected);
        assert.equal(Subnets.length, 6, 'lb, app and db subnets in each of two zones');
      } finally {
        boto.close();
      }
    });
  }
});
