// The release history of a stack: one SSM parameter per release, so `status` and `rollback` know what ran
// when, built from which image, started by whom. Not stack resources: apply never sees them as orphans.
import { userInfo } from 'node:os';
import type { AwsClients } from '../aws/clients.js';
import { allPages } from '../aws/pages.js';

export interface Release {
  number: number;
  image: string;
  /** Task definition ARN of each service (web, workers) in this release. */
  taskDefinitions: Record<string, string>;
  /** web.compute lambda: the published function version the release serves (what rollback goes back to). */
  functionVersion?: string;
  time: string;
  /** The AWS identity that deployed, and the local user. */
  who: string;
  /** `cancelled`: the deploy was interrupted (Ctrl-C) before traffic moved. */
  status: 'live' | 'failed' | 'superseded' | 'cancelled';
  /** Which step failed, for failed releases. */
  failedStep?: string;
  note?: string;
}

export class ReleaseHistory {
  readonly prefix: string;

  constructor(
    private readonly aws: AwsClients,
    readonly stack: string,
  ) {
    this.prefix = `/touchdown/${stack}/releases/`;
  }

  async list(): Promise<Release[]> {
    const ssm = await this.aws.ssm();
    const parameters = await allPages(
      (NextToken) => ssm.getParametersByPath({ Path: this.prefix, NextToken }),
      (p) => p.Parameters,
    );
    return parameters.map((p) => JSON.parse(p.Value!) as Release).sort((a, b) => a.number - b.number);
  }

  /** The release serving now: the newest live one. */
  async current(): Promise<Release | undefined> {
    return (await this.list()).filter((r) => r.status === 'live').at(-1);
  }

  async next(): Promise<number> {
    return ((await this.list()).at(-1)?.number ?? 0) + 1;
  }

  async record(release: Release): Promise<void> {
    const ssm = await this.aws.ssm();
    const Name = `${this.prefix}${String(release.number).padStart(6, '0')}`;
    const Value = JSON.stringify(release);
    try {
      await ssm.putParameter({
        Name,
        Value,
        Type: 'String',
        Tags: [{ Key: 'touchdown:release-of', Value: this.stack }],
      });
    } catch (err) {
      if ((err as { name?: string }).name !== 'ParameterAlreadyExists') throw err;
      await ssm.putParameter({ Name, Value, Type: 'String', Overwrite: true });
    }
  }

  /**
   * Marks every other live release superseded, so exactly one is live. The new one is written first: a run
   * killed in between leaves two live (the newest serves, as current() reads it), never none, which would
   * make the next deploy plan the app without its services.
   */
  async promote(release: Release): Promise<void> {
    const others = await this.list();
    await this.record({ ...release, status: 'live' });
    for (const r of others) {
      if (r.status === 'live' && r.number !== release.number)
        await this.record({ ...r, status: 'superseded' });
    }
  }

  /** Deletes the history (with the stack itself). */
  async forget(): Promise<void> {
    const ssm = await this.aws.ssm();
    const names = (await this.list()).map((r) => `${this.prefix}${String(r.number).padStart(6, '0')}`);
    for (let i = 0; i < names.length; i += 10) await ssm.deleteParameters({ Names: names.slice(i, i + 10) });
  }
}

/** Who is deploying: the AWS identity (from STS) and the local user name. */
export async function deployer(aws: AwsClients): Promise<string> {
  const sts = await aws.sts();
  const { Arn } = await sts.getCallerIdentity({});
  return `${Arn ?? 'unknown'} (${userInfo().username})`;
}
