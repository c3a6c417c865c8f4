// The local AWS's own behaviour when it runs apps (scripts/local_aws/), checked with boto3 alone and a tiny app:
// RunTask runs the task definition's process, ECS services keep their tasks behind target groups that health-check
// them as the ALB does, listeners answer on local ports by their rules, and the circuit breaker rolls back.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { get } from './support/app-http.js';
import { useLocalAws } from './support/harness.js';
import { repoRoot, venvPython } from './support/paths.js';

const tiny = join(repoRoot, 'test', 'support', 'tiny-app');
const SECRET_ARN = 'arn:aws:ssm:us-east-1:123456789012:parameter/tiny/SECRET';

/** Polls until `check` gives a value (not undefined), or fails after `ms` saying what was awaited. */
async function until<T>(what: string, check: () => Promise<T | undefined>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`waited ${ms} ms for ${what}`);
    await delay(100);
  }
}

describe('the local AWS running apps', () => {
  const t = useLocalAws({
    apps: { images: { 'tiny:*': { dir: tiny, python: venvPython } }, timeScale: 0.05 },
  });

  async function network() {
    const { Vpc } = await t.boto.call('ec2', 'CreateVpc', { CidrBlock: '10.0.0.0/16' });
    const subnets = [];
    for (const [i, zone] of ['us-east-1a', 'us-east-1b'].entries()) {
      const { Subnet } = await t.boto.call('ec2', 'CreateSubnet', {
        VpcId: Vpc.VpcId,
        CidrBlock: `10.0.${i}.0/24`,
        AvailabilityZone: zone,
      });
      subnets.push(Subnet.SubnetId as string);
    }
    const { GroupId } = await t.boto.call('ec2', 'CreateSecurityGroup', {
      GroupName: 'tiny',
      Description: 'tiny app',
      VpcId: Vpc.VpcId,
    });
    await t.boto.call('ecs', 'CreateCluster', { clusterName: 'tiny' });
    await t.boto.call('logs', 'CreateLogGroup', { logGroupName: '/tiny' });
    await t.boto.call('ssm', 'PutParameter', { Name: '/tiny/SECRET', Value: 'sesame', Type: 'SecureString' });
    return { vpc: Vpc.VpcId as string, subnets, group: GroupId as string };
  }

  async function taskDefinition(image: string, environment: Record<string, string> = {}): Promise<string> {
    const { taskDefinition: td } = await t.boto.call('ecs', 'RegisterTaskDefinition', {
      family: 'tiny',
      networkMode: 'awsvpc',
      requiresCompatibilities: ['FARGATE'],
      cpu: '256',
      memory: '512',
      containerDefinitions: [
        {
          name: 'app',
          image,
          memory: 512,
          essential: true,
          portMappings: [{ containerPort: 8000 }],
          environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
          secrets: [{ name: 'SECRET', valueFrom: SECRET_ARN }],
          logConfiguration: {
            logDriver: 'awslogs',
            options: {
              'awslogs-group': '/tiny',
              'awslogs-region': 'us-east-1',
              'awslogs-stream-prefix': 'tiny',
            },
          },
        },
      ],
    });
    return td.taskDefinitionArn;
  }

  async function logOf(taskArn: string): Promise<string[]> {
    const { events } = await t.boto.call('logs', 'GetLogEvents', {
      logGroupName: '/tiny',
      logStreamName: `tiny/app/${taskArn.split('/').at(-1)}`,
    });
    return events.map((e: { message: string }) => e.message);
  }

  it("RunTask runs the task definition's process with its secrets; its exit code and output are the task's", async () => {
    const net = await network();
    const awsvpc = { awsvpcConfiguration: { subnets: net.subnets, securityGroups: [net.group] } };
    const run = async (image: string, environment: Record<string, string>) => {
      const { tasks } = await t.boto.call('ecs', 'RunTask', {
        cluster: 'tiny',
        taskDefinition: await taskDefinition(image),
        launchType: 'FARGATE',
        networkConfiguration: awsvpc,
        overrides: {
          containerOverrides: [
            {
              name: 'app',
              environment: Object.entries(environment).map(([name, value]) => ({ name, value })),
            },
          ],
        },
      });
      return until(`task ${tasks[0].taskArn} to stop`, async () => {
        const { tasks: [task] = [] } = await t.boto.call('ecs', 'DescribeTasks', {
          cluster: 'tiny',
          tasks: [tasks[0].taskArn],
        });
        return task.lastStatus === 'STOPPED' ? task : undefined;
      });
    };

    const exited = await run('tiny:v1', { EXIT_CODE: '3' });
    assert.equal(exited.containers[0].exitCode, 3);
    assert.equal(exited.stopCode, 'EssentialContainerExited');
    assert.equal(exited.stoppedReason, 'Essential container in task exited');
    assert.deepEqual(await logOf(exited.taskArn), ['secret matches'], 'the secret came from Parameter Store');

    const unknown = await run('elsewhere:v1', {});
    assert.equal(unknown.stopCode, 'TaskFailedToStart');
    assert.equal(unknown.containers[0].exitCode, undefined);
    assert.match(unknown.containers[0].reason, /^CannotPullContainerError: /);
  });

  it('a service behind a load balancer: health checks as the ALB makes them, listener rules, the circuit breaker', async () => {
    const net = await network();
    const { TargetGroups } = await t.boto.call('elbv2', 'CreateTargetGroup', {
      Name: 'tiny',
      Protocol: 'HTTP',
      Port: 8000,
      VpcId: net.vpc,
      TargetType: 'ip',
      HealthCheckPath: '/health',
      HealthCheckIntervalSeconds: 5,
      HealthCheckTimeoutSeconds: 2,
      HealthyThresholdCount: 2,
      UnhealthyThresholdCount: 2,
      Matcher: { HttpCode: '200' },
    });
    const targetGroupArn = TargetGroups[0].TargetGroupArn;
    const { LoadBalancers } = await t.boto.call('elbv2', 'CreateLoadBalancer', {
      Name: 'tiny',
      Subnets: net.subnets,
      SecurityGroups: [net.group],
      Type: 'application',
    });
    const dnsName: string = LoadBalancers[0].DNSName;
    const { Listeners } = await t.boto.call('elbv2', 'CreateListener', {
      LoadBalancerArn: LoadBalancers[0].LoadBalancerArn,
      Protocol: 'HTTP',
      Port: 80,
      DefaultActions: [{ Type: 'forward', TargetGroupArn: targetGroupArn }],
    });
    await t.boto.call('elbv2', 'CreateRule', {
      ListenerArn: Listeners[0].ListenerArn,
      Priority: 10,
      Conditions: [{ Field: 'path-pattern', PathPatternConfig: { Values: ['/old/*'] } }],
      Actions: [
        { Type: 'redirect', RedirectConfig: { Protocol: 'HTTPS', Port: '443', StatusCode: 'HTTP_301' } },
      ],
    });
    const v1 = await taskDefinition('tiny:v1');
    await t.boto.call('ecs', 'CreateService', {
      cluster: 'tiny',
      serviceName: 'web',
      taskDefinition: v1,
      desiredCount: 1,
      launchType: 'FARGATE',
      networkConfiguration: { awsvpcConfiguration: { subnets: net.subnets, securityGroups: [net.group] } },
      loadBalancers: [{ targetGroupArn, containerName: 'app', containerPort: 8000 }],
      healthCheckGracePeriodSeconds: 10,
      deploymentConfiguration: { deploymentCircuitBreaker: { enable: true, rollback: true } },
    });
    const service = async () =>
      (await t.boto.call('ecs', 'DescribeServices', { cluster: 'tiny', services: ['web'] })).services[0];
    const first = await until('the first deployment to complete', async () => {
      const s = await service();
      return s.deployments[0].rolloutState === 'COMPLETED' ? s : undefined;
    });
    assert.equal(first.runningCount, 1);

    const { TargetHealthDescriptions: [target] = [] } = await t.boto.call('elbv2', 'DescribeTargetHealth', {
      TargetGroupArn: targetGroupArn,
    });
    // The task's own private address, of this local AWS's range (its port's two bytes: two servers of one run
    // never share one), and a port the kernel never hands to an outgoing connection (the app binds it on 0.0.0.0).
    const awsPort = Number(new URL(t.aws.endpoint).port);
    assert.match(target.Target.Id, new RegExp(`^127\\.${awsPort >> 8}\\.${awsPort & 255}\\.\\d+$`));
    const [ephemeralLow] = (await readFile('/proc/sys/net/ipv4/ip_local_port_range', 'utf8'))
      .split(/\s+/)
      .map(Number);
    assert.ok(
      target.Target.Port < ephemeralLow!,
      `port ${target.Target.Port}, below the ephemeral ${ephemeralLow}`,
    );
    assert.equal(target.TargetHealth.State, 'healthy');

    const url = (await t.aws.loadBalancers()).find((lb) => lb.dnsName === dnsName)!.listeners['80']!;
    const page = await get(`${url}/`);
    assert.equal(page.status, 200);
    assert.equal(
      page.body,
      `hello Host=${dnsName}\n`,
      "the request reaches the app with the load balancer's name",
    );
    const moved = await get(`${url}/old/page?x=1`);
    assert.equal(moved.status, 301);
    assert.equal(moved.headers.location, `https://${dnsName}/old/page?x=1`);

    const { taskArns } = await t.boto.call('ecs', 'ListTasks', { cluster: 'tiny', desiredStatus: 'RUNNING' });
    const checked = (await logOf(taskArns[0])).find((line) => line.startsWith('GET /health'));
    assert.equal(checked, `GET /health Host=${target.Target.Id}:${target.Target.Port}`, 'Host is the target');

    // A release whose health check answers 404: its tasks fail their checks, the deployment fails, ECS rolls back.
    await t.boto.call('ecs', 'UpdateService', {
      cluster: 'tiny',
      service: 'web',
      taskDefinition: await taskDefinition('tiny:v2', { HEALTH_CODE: '404', GREETING: 'v2' }),
    });
    const rolledBack = await until('the rollback to complete', async () => {
      const s = await service();
      const done = s.taskDefinition === v1 && s.deployments.length === 1;
      return done && s.deployments[0].rolloutState === 'COMPLETED' ? s : undefined;
    });
    const events = rolledBack.events.map((e: { message: string }) => e.message).join('\n');
    assert.match(
      events,
      /\(task [\w-]+\) failed ELB health checks in \(target-group arn:aws:elasticloadbalancing:/,
    );
    assert.match(events, /deployment failed: tasks failed to start\./);
    assert.match(events, /rolling back to deployment ecs-svc\//);
    assert.equal((await get(`${url}/`)).body, `hello Host=${dnsName}\n`, 'release 1 still answers');
  });

  /** A python3.12 function (handler app.handler) from a zip given in base64, with its own role. */
  async function pythonFunction(name: string, zipBase64: string, extra: Record<string, unknown> = {}) {
    const { Role } = await (await t.aws.clients().iam()).createRole({
      RoleName: `${name}-fn`,
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    });
    await (await t.aws.clients().lambda()).createFunction({
      FunctionName: name,
      Runtime: 'python3.12',
      // Lambda's 3 s default would time out a cold start on a loaded machine.
      Timeout: 60,
      Handler: 'app.handler',
      Role: Role!.Arn!,
      Code: { ZipFile: Buffer.from(zipBase64.trim(), 'base64') },
      ...extra,
    });
  }

  it("Invoke runs the function's handler in a local Python with the function's environment", async () => {
    // The package: a handler module zipped by Python's own zipfile (no dependency: -S leaves site-packages out).
    const handler = [
      'import os',
      'def handler(event, context):',
      '    print("seen", event["name"])',
      '    if event.get("fail"):',
      '        raise ValueError("no " + event["name"])',
      '    return {"greeting": os.environ["GREETING"] + " " + event["name"], "function": context.function_name}',
    ].join('\n');
    const { stdout } = await promisify(execFile)(venvPython, [
      '-c',
      'import base64, io, sys, zipfile\nb = io.BytesIO()\nz = zipfile.ZipFile(b, "w")\nz.writestr("app.py", sys.argv[1])\nz.close()\nprint(base64.b64encode(b.getvalue()).decode())',
      handler,
    ]);
    await pythonFunction('tiny', stdout, { Environment: { Variables: { GREETING: 'hello' } } });
    const answer = await t.boto.call('lambda', 'Invoke', {
      FunctionName: 'tiny',
      Payload: JSON.stringify({ name: 'world' }),
      LogType: 'Tail',
    });
    assert.equal(answer.FunctionError, undefined);
    assert.deepEqual(JSON.parse(answer.Payload), { greeting: 'hello world', function: 'tiny' });
    assert.match(Buffer.from(answer.LogResult, 'base64').toString(), /seen world/);

    const failed = await t.boto.call('lambda', 'Invoke', {
      FunctionName: 'tiny',
      Payload: JSON.stringify({ name: 'luck', fail: true }),
    });
    assert.ok(failed.FunctionError, "the error is the function's");
    assert.deepEqual(
      [JSON.parse(failed.Payload).errorType, JSON.parse(failed.Payload).errorMessage],
      ['ValueError', 'no luck'],
    );
    const { events } = await t.boto.call('logs', 'FilterLogEvents', { logGroupName: '/aws/lambda/tiny' });
    assert.ok(
      events.some((e: { message: string }) => e.message === 'seen luck'),
      'the output is in its log group',
    );
  });

  it("says so when a package's compiled modules are for a processor this machine is not", async () => {
    // An arm64 function whose package carries an aarch64 extension module, as pip installs psycopg's for Graviton.
    const { stdout } = await promisify(execFile)(venvPython, [
      '-c',
      'import base64, io, zipfile\nb = io.BytesIO()\nz = zipfile.ZipFile(b, "w")\nz.writestr("app.py", "import fast\\ndef handler(e, c): return 1")\nz.writestr("fast.cpython-312-aarch64-linux-gnu.so", b"\\x7fELF")\nz.close()\nprint(base64.b64encode(b.getvalue()).decode())',
    ]);
    await pythonFunction('graviton', stdout, { Architectures: ['arm64'] });
    const answer = await t.boto.call('lambda', 'Invoke', { FunctionName: 'graviton', Payload: '{}' });
    assert.ok(answer.FunctionError);
    assert.match(
      JSON.parse(answer.Payload).errorMessage,
      /compiled modules are for arm64 and cannot load here; deploy it with web\.architecture: x86_64/,
    );
  });
});
