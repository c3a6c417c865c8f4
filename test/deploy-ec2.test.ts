// web.compute: ec2 with network.nat: instance: a copy of examples/xkcd deployed from nothing on the local AWS
// (an image built elsewhere), checked with boto3, deployed again without a change, and destroyed.
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse, stringify } from 'yaml';
import { resourceTypes } from '../src/aws/registry.js';
import { type LoadedManifest, parseManifest } from '../src/config/load-manifest.js';
import { Engine } from '../src/core/engine.js';
import { awsBlueprint } from '../src/django/blueprint/index.js';
import { deploy } from '../src/django/deploy.js';
import { get, listenerUrl } from './support/app-http.js';
import { copyOfExample } from './support/cli.js';
import { assertNoChanges, useLocalAws } from './support/harness.js';
import { repoRoot, venvPython } from './support/paths.js';

const t = useLocalAws({
  env: {
    MOTO_ACM_VALIDATION_WAIT: '0',
    // The images AWS's public parameters name (ECS-optimized and plain Amazon Linux 2023), as in every region.
    MOTO_EC2_LOAD_DEFAULT_AMIS: 'true',
    // moto runs no ECS agent: instances join the cluster their user data names, as the agent does.
    LOCAL_AWS_ECS_AGENT: 'true',
  },
  // The local AWS runs the app's tasks on the instances' capacity as ECS would.
  apps: {
    images: {
      '*/xkcd-production-app:*': {
        dir: join(repoRoot, 'examples', 'xkcd'),
        python: venvPython,
        env: { WEB_CONCURRENCY: '1' },
      },
    },
  },
});
const STACK = 'xkcd-production';
const CLUSTER = `${STACK}-main`;
const PROVIDER = `${STACK}-instances`;
const IMAGE = `123456789012.dkr.ecr.us-east-1.amazonaws.com/${STACK}-app:v1`;
const timing = { initialDelayMs: 20, maxDelayMs: 200, defaultTimeoutMs: 60_000 };

/** examples/xkcd on instances of its own behind a NAT instance, with a nightly job to show where scheduled tasks run. */
async function xkcdOnEc2(): Promise<LoadedManifest> {
  const dir = await copyOfExample('xkcd', ['touchdown.yml']);
  const path = join(dir, 'touchdown.yml');
  const doc = parse(await readFile(path, 'utf8'));
  doc.web.compute = 'ec2';
  doc.network = { ...doc.network, nat: 'instance' };
  doc.schedules = [{ name: 'clearsessions', cron: '0 3 * * ? *', command: 'clearsessions' }];
  await writeFile(path, stringify(doc));
  return parseManifest(await readFile(path, 'utf8'), path);
}

const deployOnce = (loaded: LoadedManifest) =>
  deploy({
    loaded,
    aws: t.aws.clients(),
    events: () => {},
    signal: new AbortController().signal,
    image: IMAGE,
    timing,
  });

const engine = (loaded: LoadedManifest) =>
  new Engine({
    stack: awsBlueprint(loaded, {
      region: 'us-east-1',
      account: '123456789012',
      zones: ['us-east-1a', 'us-east-1b'],
      image: IMAGE,
    }),
    registry: resourceTypes,
    aws: t.aws.clients(),
    events: () => {},
    timing,
  });

const tagsOf = (list: { Key: string; Value: string }[] = []) =>
  Object.fromEntries(list.map((x) => [x.Key, x.Value]));
const byAddress = (address: string) => [{ Name: 'tag:touchdown:resource', Values: [address] }];

async function subnetIds(...names: string[]): Promise<string[]> {
  const ids = await Promise.all(
    names.map(async (n) => {
      const { Subnets } = await t.boto.call('ec2', 'DescribeSubnets', {
        Filters: byAddress(`subnet.main/${n}`),
      });
      return Subnets[0].SubnetId as string;
    }),
  );
  return ids.sort();
}

async function liveInstances(address: string) {
  const { Reservations } = await t.boto.call('ec2', 'DescribeInstances', {
    Filters: [
      ...byAddress(address),
      { Name: 'instance-state-name', Values: ['pending', 'running', 'stopping', 'stopped'] },
    ],
  });
  return Reservations.flatMap((r: { Instances: unknown[] }) => r.Instances);
}

describe('web.compute: ec2 with a NAT instance', () => {
  it('deploys from nothing onto instances ECS scales, behind a NAT instance; again changes nothing; destroy leaves the snapshot', async () => {
    const loaded = await xkcdOnEc2();
    const first = await deployOnce(loaded);
    assert.equal(first.status, 'deployed', `${first.message}\n${(first.logs ?? []).join('\n')}`);

    // The app answers through the load balancer, its view count kept in PostgreSQL.
    const https = await listenerUrl(t.aws, 'xkcd', 443);
    const views = async () => {
      const page = await get(`${https}/?comic=1`);
      assert.equal(page.status, 200, page.body.slice(0, 500));
      return Number(/<strong id="views">(\d+)<\/strong>/.exec(page.body)?.[1]);
    };
    const seen = await views();
    assert.equal(await views(), seen + 1);

    // The launch template: ECS-optimized Amazon Linux 2023 for Graviton, IMDSv2 on the host only, encrypted disk.
    const { LaunchTemplates } = await t.boto.call('ec2', 'DescribeLaunchTemplates', {
      Filters: [{ Name: 'tag:touchdown:stack', Values: [STACK] }],
    });
    assert.equal(LaunchTemplates.length, 1);
    const template = LaunchTemplates[0];
    const { LaunchTemplateVersions } = await t.boto.call('ec2', 'DescribeLaunchTemplateVersions', {
      LaunchTemplateId: template.LaunchTemplateId,
      Versions: ['$Latest'],
    });
    const data = LaunchTemplateVersions[0].LaunchTemplateData;
    assert.equal(
      data.ImageId,
      'resolve:ssm:/aws/service/ecs/optimized-ami/amazon-linux-2023/arm64/recommended/image_id',
    );
    assert.equal(data.InstanceType, 't4g.small');
    assert.equal(data.MetadataOptions.HttpTokens, 'required');
    assert.equal(data.MetadataOptions.HttpPutResponseHopLimit, 1);
    assert.equal(data.BlockDeviceMappings[0].Ebs.Encrypted, true);
    const userData = Buffer.from(data.UserData, 'base64').toString();
    assert.match(userData, new RegExp(`^ECS_CLUSTER=${CLUSTER}$`, 'm'));
    assert.match(userData, /^ECS_AWSVPC_BLOCK_IMDS=true$/m);
    const { SecurityGroups: appGroup } = await t.boto.call('ec2', 'DescribeSecurityGroups', {
      Filters: byAddress('security-group.main/app'),
    });
    assert.deepEqual(data.SecurityGroupIds, [appGroup[0].GroupId]);

    // The instance role lets the ECS agent work this cluster, and nothing else.
    const profile = data.IamInstanceProfile.Arn.split('/').at(-1);
    const { InstanceProfile } = await t.boto.call('iam', 'GetInstanceProfile', {
      InstanceProfileName: profile,
    });
    const roleName = InstanceProfile.Roles[0].RoleName;
    const { PolicyNames } = await t.boto.call('iam', 'ListRolePolicies', { RoleName: roleName });
    const { PolicyDocument } = await t.boto.call('iam', 'GetRolePolicy', {
      RoleName: roleName,
      PolicyName: PolicyNames[0],
    });
    const statements = (
      typeof PolicyDocument === 'string' ? JSON.parse(decodeURIComponent(PolicyDocument)) : PolicyDocument
    ).Statement as { Action: string | string[]; Resource: string | string[] }[];
    const actions = statements.flatMap((s) => [s.Action].flat()).sort();
    assert.ok(
      actions.every((a) => a.startsWith('ecs:')),
      actions.join(', '),
    );
    const starred = statements
      .filter((s) => [s.Resource].flat().includes('*'))
      .flatMap((s) => [s.Action].flat());
    assert.deepEqual(starred, ['ecs:DiscoverPollEndpoint']);

    // The auto scaling group: in the app subnets, at least the web tasks' count of instances.
    const { AutoScalingGroups } = await t.boto.call('autoscaling', 'DescribeAutoScalingGroups', {
      AutoScalingGroupNames: [PROVIDER],
    });
    const group = AutoScalingGroups[0];
    assert.deepEqual(group.VPCZoneIdentifier.split(',').sort(), await subnetIds('app-a', 'app-b'));
    assert.equal(group.LaunchTemplate.LaunchTemplateId, template.LaunchTemplateId);
    assert.equal(group.MinSize, 2);
    assert.equal(group.MaxSize, 13, 'room for twice the most web tasks, and a one-off task');
    assert.equal(group.Instances.length, 2);

    // The capacity provider: the group, scaled by ECS, offered to the cluster as its default.
    const { capacityProviders } = await t.boto.call('ecs', 'DescribeCapacityProviders', {
      capacityProviders: [PROVIDER],
    });
    assert.equal(
      capacityProviders[0].autoScalingGroupProvider.autoScalingGroupArn,
      group.AutoScalingGroupARN,
    );
    assert.equal(capacityProviders[0].autoScalingGroupProvider.managedScaling.status, 'ENABLED');
    const { clusters } = await t.boto.call('ecs', 'DescribeClusters', { clusters: [CLUSTER] });
    assert.ok(clusters[0].capacityProviders.includes(PROVIDER));
    assert.equal(clusters[0].defaultCapacityProviderStrategy[0].capacityProvider, PROVIDER);
    assert.equal(clusters[0].registeredContainerInstancesCount, 2, 'both instances joined the cluster');

    // migrate and collectstatic ran on the instances, through the provider, in one task.
    const listed = await t.boto.call('ecs', 'ListTasks', { cluster: CLUSTER, desiredStatus: 'STOPPED' });
    const running = await t.boto.call('ecs', 'ListTasks', { cluster: CLUSTER });
    const { tasks } = await t.boto.call('ecs', 'DescribeTasks', {
      cluster: CLUSTER,
      tasks: [...listed.taskArns, ...running.taskArns],
    });
    const oneOff = tasks.filter((task: { startedBy: string }) => task.startedBy === 'touchdown');
    assert.equal(oneOff.length, 1);
    for (const task of oneOff) {
      assert.equal(task.capacityProviderName, PROVIDER);
      assert.match(task.containerInstanceArn, /:container-instance\//);
    }
    // Task definitions are for EC2; the services and the nightly job run through the provider.
    const { services } = await t.boto.call('ecs', 'DescribeServices', {
      cluster: CLUSTER,
      services: [`${STACK}-web`],
    });
    // moto keeps no capacityProviderStrategy from CreateService: the web service's placement shows as its launch type.
    assert.equal(services[0].launchType, 'EC2');
    const { taskDefinition } = await t.boto.call('ecs', 'DescribeTaskDefinition', {
      taskDefinition: services[0].taskDefinition,
    });
    assert.deepEqual(taskDefinition.requiresCompatibilities, ['EC2']);
    const schedule = await t.boto.call('scheduler', 'GetSchedule', { Name: `${STACK}.clearsessions` });
    assert.deepEqual(JSON.parse(schedule.Target.Input).capacityProviderStrategy, [
      { capacityProvider: PROVIDER, weight: 1 },
    ]);

    // The NAT instance: in the first public subnet, forwarding (no source/dest check), open to the VPC alone.
    const [nat, ...otherNats] = await liveInstances('instance.nat');
    assert.equal(otherNats.length, 0);
    assert.deepEqual([nat.SubnetId], await subnetIds('lb-a'));
    assert.equal(nat.SourceDestCheck, false);
    assert.equal(nat.MetadataOptions.HttpTokens, 'required');
    assert.match(
      tagsOf(nat.Tags)['touchdown:image'] ?? '',
      /^resolve:ssm:\/aws\/service\/ami-amazon-linux-latest\/al2023-ami-kernel-default-arm64$/,
    );
    const { SecurityGroups: natGroup } = await t.boto.call('ec2', 'DescribeSecurityGroups', {
      Filters: byAddress('security-group.main/nat'),
    });
    assert.deepEqual(
      nat.SecurityGroups.map((g: { GroupId: string }) => g.GroupId),
      [natGroup[0].GroupId],
    );
    assert.deepEqual(
      natGroup[0].IpPermissions.map((p: { IpProtocol: string; IpRanges: { CidrIp: string }[] }) => [
        p.IpProtocol,
        p.IpRanges.map((r) => r.CidrIp),
      ]),
      [['-1', ['10.0.0.0/16']]],
    );
    const { UserData } = await t.boto.call('ec2', 'DescribeInstanceAttribute', {
      InstanceId: nat.InstanceId,
      Attribute: 'userData',
    });
    assert.match(Buffer.from(UserData.Value, 'base64').toString(), /-s 10\.0\.0\.0\/16 -j MASQUERADE/);

    // The app (and database) subnets leave through the NAT instance's network interface.
    const { RouteTables } = await t.boto.call('ec2', 'DescribeRouteTables', {
      Filters: byAddress('route-table.main/private'),
    });
    const out = RouteTables[0].Routes.find(
      (r: { DestinationCidrBlock?: string }) => r.DestinationCidrBlock === '0.0.0.0/0',
    );
    assert.equal(out.NetworkInterfaceId, nat.NetworkInterfaces[0].NetworkInterfaceId);
    const associated = RouteTables[0].Associations.map((a: { SubnetId: string }) => a.SubnetId).sort();
    assert.deepEqual(associated, await subnetIds('app-a', 'app-b', 'db-a', 'db-b'));

    // A second deploy of the same image changes nothing; neither would a plan.
    const again = await deployOnce(loaded);
    assert.equal(again.status, 'unchanged', again.message);
    assertNoChanges((await engine(loaded).plan()).plan);

    // Destroy: the database is a data store (--force), and leaves a final snapshot.
    const { report } = await engine(loaded).destroy({ force: true });
    assert.deepEqual(
      report!.failed.map((f) => f.address),
      [],
    );
    assert.deepEqual(report!.skipped, []);
    assert.equal((await liveInstances('instance.nat')).length, 0);
    assert.equal((await liveInstances('auto-scaling-group.instances')).length, 0);
    const gone = await t.boto.call('ecs', 'DescribeCapacityProviders', { capacityProviders: [PROVIDER] });
    assert.deepEqual(gone.capacityProviders, []);
    const groups = await t.boto.call('autoscaling', 'DescribeAutoScalingGroups', {
      AutoScalingGroupNames: [PROVIDER],
    });
    assert.deepEqual(groups.AutoScalingGroups, []);
    assert.equal(
      (
        await t.boto.call('ec2', 'DescribeLaunchTemplates', {
          Filters: [{ Name: 'tag:touchdown:stack', Values: [STACK] }],
        })
      ).LaunchTemplates.length,
      0,
    );
    assert.equal(
      await t.boto.errorOf('iam', 'GetInstanceProfile', { InstanceProfileName: profile }),
      'NoSuchEntity',
    );
    const { DBSnapshots } = await t.boto.call('rds', 'DescribeDBSnapshots');
    assert.equal(
      DBSnapshots.filter((s: { SnapshotType: string }) => s.SnapshotType === 'manual').length,
      1,
      'a final snapshot',
    );
    // What is left tagged with the stack, by kind: terminated instances and stopped tasks stay listed for a while,
    // and a deleted cluster stays visible as INACTIVE, on AWS as here.
    const { ResourceTagMappingList } = await t.boto.call('resourcegroupstaggingapi', 'GetResources', {
      TagFilters: [{ Key: 'touchdown:stack', Values: [STACK] }],
    });
    const arns = (ResourceTagMappingList as { ResourceARN: string }[]).map((r) => r.ResourceARN);
    const instanceIds = arns.filter((a) => a.includes(':instance/')).map((a) => a.split('/').at(-1)!);
    const { Reservations } = await t.boto.call('ec2', 'DescribeInstances', { InstanceIds: instanceIds });
    const states = Reservations.flatMap((r: { Instances: { State: { Name: string } }[] }) =>
      r.Instances.map((i) => i.State.Name),
    );
    assert.deepEqual([...new Set(states)], ['terminated'], 'the NAT instance and the group’s instances');
    const { clusters: after } = await t.boto.call('ecs', 'DescribeClusters', { clusters: [CLUSTER] });
    assert.equal(after[0].status, 'INACTIVE');
    const kindOf = (arn: string) =>
      `${arn.split(':')[2]}:${arn.split(':').slice(5).join(':').split(/[:/]/)[0]}`;
    const left = arns
      .map(kindOf)
      .filter((k) => !['ec2:instance', 'ecs:cluster', 'ecs:service', 'ecs:task'].includes(k))
      .sort();
    assert.deepEqual(left, []);
  });
});
