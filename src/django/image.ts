// Building the app's image and pushing it to ECR with whichever builder this machine has.
import { execFile, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import type { AwsClients } from '../aws/clients.js';
import type { Manifest } from '../config/manifest.js';
import { isGraviton } from './blueprint/ec2.js';

const run = promisify(execFile);

export type Builder = 'docker' | 'podman' | 'buildah';

export class NoImageBuilder extends Error {
  override readonly name = 'NoImageBuilder';
  /** `tried`: why each builder that is installed did not answer (an engine that is not running, say). */
  constructor(tried: string[] = []) {
    super(
      tried.length > 0
        ? `no container builder answers: ${tried.join('; ')}. Start ${tried.length > 1 ? 'one of them' : 'it'} ` +
            '(or install docker, podman or buildah), ' +
            'or build the image elsewhere (in CI, say) and pass --image <uri>'
        : 'no container builder on this machine (looked for docker, podman and buildah). Install one of them, ' +
            'or build the image elsewhere (in CI, say) and pass --image <uri>',
    );
  }
}

/** The first builder that answers, in order of preference. */
export async function findBuilder(): Promise<Builder> {
  const tried: string[] = [];
  for (const builder of ['docker', 'podman', 'buildah'] as const) {
    try {
      // `docker version` also proves the engine runs, not only that the client is installed. A busy machine may
      // take seconds to answer: the limit is for an engine that hangs.
      await run(
        builder,
        builder === 'buildah' ? ['version'] : ['version', '--format', '{{.Server.Version}}'],
        { timeout: 60_000 },
      );
      return builder;
    } catch (err) {
      const e = err as NodeJS.ErrnoException & { stderr?: string; killed?: boolean };
      // Not installed: try the next one quietly; installed but failing: say why, in case none answers.
      if (e.code !== 'ENOENT')
        tried.push(
          e.killed
            ? `${builder} is installed but \`${builder} version\` did not answer within 60 s`
            : `${builder} is installed but \`${builder} version\` failed: ${lastLine(e.stderr) ?? `exit code ${e.code}`}`,
        );
    }
  }
  throw new NoImageBuilder(tried);
}

function lastLine(text: string | undefined): string | undefined {
  return text?.trim().split('\n').at(-1) || undefined;
}

export type ImagePlatform = 'linux/amd64' | 'linux/arm64';

/**
 * The CPU the containers run on: Graviton instance types (t4g, m7g, c7g…) are arm64; on Fargate web.architecture
 * (X86_64 unless the task definition's runtimePlatform says ARM64).
 * https://docs.aws.amazon.com/AmazonECS/latest/developerguide/task_definition_parameters.html#runtime-platform
 */
export function imagePlatform(m: Pick<Manifest, 'web'>): ImagePlatform {
  if (m.web.compute === 'fargate') return m.web.architecture === 'arm64' ? 'linux/arm64' : 'linux/amd64';
  return m.web.compute === 'ec2' && isGraviton(m.web.instanceType) ? 'linux/arm64' : 'linux/amd64';
}

/** The builder's arguments for a build of `dockerfile` in `context`; `extra` go before the context. */
export function buildArgs(
  builder: Builder,
  o: { dockerfile: string; context: string; tag: string; platform: ImagePlatform; extra?: string[] },
): string[] {
  return [
    builder === 'buildah' ? 'bud' : 'build',
    '--platform',
    o.platform,
    '-f',
    o.dockerfile,
    '-t',
    o.tag,
    ...(o.extra ?? []),
    o.context,
  ];
}

export interface BuiltImage {
  /** repository:tag as pushed. */
  uri: string;
  /** repository@sha256:... so a task definition pins exactly this image. */
  digestUri: string;
}

/** Builds the project's Dockerfile, logs in to ECR, pushes, and returns the pushed image's digest. */
export async function buildAndPush(
  aws: AwsClients,
  options: {
    context: string;
    dockerfile: string;
    /** The compute's CPU, e.g. linux/arm64 for Graviton (a laptop's default may be the other one). */
    platform: ImagePlatform;
    repositoryUri: string;
    tag: string;
    log: (line: string) => void;
  },
): Promise<BuiltImage> {
  const builder = await findBuilder();
  const uri = `${options.repositoryUri}:${options.tag}`;
  const cli = builder === 'buildah' ? 'buildah' : builder;
  await stream(cli, buildArgs(builder, { ...options, tag: uri }), options.log);

  const ecr = await aws.ecr();
  const auth = (await ecr.getAuthorizationToken({})).authorizationData?.[0];
  const [user, password] = Buffer.from(auth?.authorizationToken ?? '', 'base64')
    .toString()
    .split(':');
  const registry = options.repositoryUri.split('/')[0]!;
  await stream(
    cli,
    ['login', '--username', user ?? 'AWS', '--password-stdin', registry],
    options.log,
    password,
  );
  await stream(cli, ['push', uri], options.log);

  const repositoryName = options.repositoryUri.slice(registry.length + 1);
  const described = await ecr.describeImages({ repositoryName, imageIds: [{ imageTag: options.tag }] });
  const digest = described.imageDetails?.[0]?.imageDigest;
  return { uri, digestUri: digest ? `${options.repositoryUri}@${digest}` : uri };
}

/** The image tag for a release: the git commit, marked when the tree has uncommitted changes. */
export async function releaseTag(dir: string): Promise<string> {
  const stamp = new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '').replace('T', '-');
  try {
    const { stdout: sha } = await run('git', ['rev-parse', '--short=12', 'HEAD'], { cwd: dir });
    const { stdout: status } = await run('git', ['status', '--porcelain'], { cwd: dir });
    return status.trim() ? `${sha.trim()}-dirty-${stamp}` : sha.trim();
  } catch {
    return stamp;
  }
}

function stream(cmd: string, args: string[], log: (line: string) => void, stdin?: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const tail: string[] = [];
    const onData = (d: Buffer) => {
      for (const line of d.toString().split('\n').filter(Boolean)) {
        tail.push(line);
        if (tail.length > 20) tail.shift();
        log(line);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.stdin.end(stdin ?? '');
    child.once('error', reject);
    child.once('close', (code) =>
      code === 0
        ? resolve()
        : reject(new Error(`${cmd} ${args[0]} failed (exit ${code}):\n${tail.join('\n')}`)),
    );
  });
}
