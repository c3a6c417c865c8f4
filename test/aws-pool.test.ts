// The local AWS servers scripts/test.sh shares between test files: one file at a time holds one, it finds it
// empty, and what it staged or configured in it is undone when it gives it back.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, before, it } from 'node:test';
import { Boto } from './support/boto.js';
import { startLocalAws } from './support/local-aws.js';
import { repoRoot, venvPython } from './support/paths.js';

let pool: string;
let server: ChildProcess;
let port: number;
const saved = process.env.TOUCHDOWN_TEST_AWS_POOL;

before(async () => {
  pool = await mkdtemp(join(tmpdir(), 'touchdown-pool-'));
  // As scripts/test.sh starts them: detached from stdin, its first line written to server-<n>.json.
  server = spawn(venvPython, [join(repoRoot, 'scripts', 'local_aws.py'), '--port', '0', '--detach'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve) =>
    createInterface({ input: server.stdout! }).once('line', resolve),
  );
  port = (JSON.parse(line) as { port: number }).port;
  await writeFile(join(pool, 'server-1.json'), line);
  process.env.TOUCHDOWN_TEST_AWS_POOL = pool;
});

after(async () => {
  process.env.TOUCHDOWN_TEST_AWS_POOL = saved;
  if (saved === undefined) delete process.env.TOUCHDOWN_TEST_AWS_POOL;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGTERM');
  await exited;
  await rm(pool, { recursive: true, force: true });
});

const transition = async (endpoint: string) =>
  (await fetch(`${endpoint}/moto-api/state-manager/get-transition?model_name=ecs::task`)).json();

it('leases the pooled server to one holder, empty, and gives it back as it found it', async () => {
  const first = await startLocalAws();
  assert.equal(first.endpoint, `http://127.0.0.1:${port}`, 'the default settings lease the pooled server');
  const boto = new Boto(first.endpoint, first.region);
  try {
    const before = await transition(first.endpoint);
    await boto.call('sqs', 'CreateQueue', { QueueName: 'left-behind' });
    await first.setTransition('ecs::task', { progression: 'manual', times: 1e6 });
    await fetch(`${first.endpoint}/moto-api/config`, {
      method: 'POST',
      body: JSON.stringify({ lambda: { use_docker: false } }),
    });

    // Held: another file starts its own, whatever its settings.
    const second = await startLocalAws();
    const own = await startLocalAws({ env: { MOTO_ACM_VALIDATION_WAIT: '0' } });
    assert.notEqual(second.endpoint, first.endpoint);
    assert.notEqual(own.endpoint, first.endpoint);
    await second.stop();
    await own.stop();

    await first.stop();
    assert.deepEqual(await transition(first.endpoint), before, 'the staged transition is undone');
    const config = (await (await fetch(`${first.endpoint}/moto-api/config`)).json()) as {
      lambda?: { use_docker?: boolean };
    };
    assert.notEqual(config.lambda?.use_docker, false, 'the config is given back');

    const next = await startLocalAws();
    assert.equal(next.endpoint, first.endpoint, 'given back, it is leased again');
    const { QueueUrls } = await boto.call('sqs', 'ListQueues', {});
    assert.deepEqual(QueueUrls ?? [], [], 'the next holder finds it empty');
    await next.stop();
  } finally {
    boto.close();
  }
});

it('takes over the lease of a holder that died without giving it back', async () => {
  await mkdir(join(pool, 'server-1.json.lease'));
  // A process id no process has (above the kernel's limit).
  await writeFile(join(pool, 'server-1.json.lease', 'pid'), '99999999');
  const local = await startLocalAws();
  assert.equal(local.endpoint, `http://127.0.0.1:${port}`);
  await local.stop();
});

/** A certificate's status once requested, and a new service's running count, as the emulator's settings make them. */
async function settingsAtWork(boto: Boto): Promise<{ certificate: string; running: number }> {
  const { CertificateArn } = await boto.call('acm', 'RequestCertificate', {
    DomainName: 'pool.example.com',
    ValidationMethod: 'DNS',
  });
  const { Certificate } = await boto.call('acm', 'DescribeCertificate', { CertificateArn });
  await boto.call('ecs', 'CreateCluster', { clusterName: 'pool' });
  await boto.call('ecs', 'RegisterTaskDefinition', {
    family: 'web',
    containerDefinitions: [{ name: 'web', image: 'nginx', memory: 128 }],
  });
  const { service } = await boto.call('ecs', 'CreateService', {
    cluster: 'pool',
    serviceName: 'web',
    taskDefinition: 'web',
    desiredCount: 3,
  });
  return { certificate: Certificate.Status, running: service.runningCount };
}

it("leases the pooled server with a file's settings, and gives it back with its own", async () => {
  const withSettings = await startLocalAws({
    env: { MOTO_ACM_VALIDATION_WAIT: '0', MOTO_ECS_SERVICE_RUNNING: '2' },
  });
  assert.equal(
    withSettings.endpoint,
    `http://127.0.0.1:${port}`,
    'settings no longer need a server of their own',
  );
  const boto = new Boto(withSettings.endpoint, withSettings.region);
  try {
    assert.deepEqual(await settingsAtWork(boto), { certificate: 'ISSUED', running: 2 });
    await withSettings.stop();

    const plain = await startLocalAws();
    assert.equal(plain.endpoint, withSettings.endpoint);
    // moto's own defaults: validation takes 60 s, services report none running.
    assert.deepEqual(await settingsAtWork(boto), { certificate: 'PENDING_VALIDATION', running: 0 });
    await plain.stop();
  } finally {
    boto.close();
  }
});

it('refuses a setting the leased server cannot take, and gives the lease back', async () => {
  await assert.rejects(
    startLocalAws({ env: { MOTO_NOT_A_SETTING: '1' } }),
    /cannot change MOTO_NOT_A_SETTING while it runs/,
  );
  const next = await startLocalAws();
  assert.equal(next.endpoint, `http://127.0.0.1:${port}`, 'the refused file holds no lease');
  await next.stop();
});

it('leases a server that runs apps to a file with apps, with its images for the lease only', async () => {
  const apps = spawn(venvPython, [join(repoRoot, 'scripts', 'local_aws.py'), '--port', '0', '--detach'], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, LOCAL_AWS_APPS: 'true' },
  });
  try {
    const line = await new Promise<string>((resolve) =>
      createInterface({ input: apps.stdout! }).once('line', resolve),
    );
    const started = JSON.parse(line) as { port: number; harness: number };
    await writeFile(join(pool, 'apps-1.json'), line);
    const images = { 'tiny:*': { dir: repoRoot, python: venvPython } };
    const settings = async () =>
      (await (await fetch(`http://127.0.0.1:${started.port}/moto-api/local-aws/settings`)).json()) as Record<
        string,
        string
      >;

    const plain = await startLocalAws();
    assert.equal(plain.endpoint, `http://127.0.0.1:${port}`, 'a file without apps leases a plain server');
    const withApps = await startLocalAws({ apps: { images, timeScale: 0.5 } });
    assert.equal(
      withApps.endpoint,
      `http://127.0.0.1:${started.port}`,
      'a file with apps leases the apps server',
    );
    assert.deepEqual(await withApps.loadBalancers(), [], "the apps server's harness answers, empty");
    assert.deepEqual(JSON.parse((await settings()).LOCAL_AWS_IMAGES ?? 'null'), images);
    assert.equal((await settings()).LOCAL_AWS_TIME_SCALE, '0.5');
    await withApps.stop();
    await plain.stop();
    const after = await settings();
    assert.equal(after.LOCAL_AWS_IMAGES, undefined, 'its images go with the lease');
    assert.equal(after.LOCAL_AWS_TIME_SCALE, undefined);
  } finally {
    await rm(join(pool, 'apps-1.json'), { force: true });
    const exited = new Promise((resolve) => apps.once('exit', resolve));
    apps.kill('SIGTERM');
    await exited;
  }
});
