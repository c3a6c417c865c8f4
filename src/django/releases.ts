// The release history of a stack: one SSM parameter per release, so `status` and `rollback` know what ran
// when, built from which image, started by whom. Not stack resources: apply never sees them as orphans.
// A number is claimed by creating its parameter (PutParameter without Overwrite fails with
// ParameterAlreadyExists), so two deploys, even ones no lock keeps apart, never share one:
// https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html
import { userInfo } from 'node:os';
import type { AwsClients } from '../aws/clients.js';
import { errorCode } from '../aws/errors.js';
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
  /**
   * `started`: claimed by a deploy that has not finished (or was killed); `cancelled`: the deploy was
   * interrupted (Ctrl-C) before traffic moved.
   */
  status: 'started' | 'live' | 'failed' | 'superseded' | 'cancelled';
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

  /** Takes the next free number for a new release, recorded as `started`; the number is this deploy's alone. */
  async claim(release: Omit<Release, 'number' | 'status'>): Promise<Release> {
    const ssm = await this.aws.ssm();
    let number = await this.next();
    for (let tries = 0; ; tries++) {
      const claimed: Release = { ...release, number, status: 'started' };
      try {
        await ssm.putParameter({
          Name: this.nameOf(number),
          Value: JSON.stringify(claimed),
          Type: 'String',
          Tags: [{ Key: 'touchdown:release-of', Value: this.stack }],
        });
        return claimed;
      } catch (err) {
        if (errorCode(err) !== 'ParameterAlreadyExists' || tries >= 20) throw err;
        // A retry whose first attempt was written but whose answer was lost finds its own claim.
        const { Parameter } = await ssm.getParameter({ Name: this.nameOf(number) });
        if (Parameter?.Value === JSON.stringify(claimed)) return claimed;
        // Another deploy took it since the history was read: the one after it, then.
        number++;
      }
    }
  }

  /** Writes the outcome of a release this deploy claimed: no other deploy ever writes that number. */
  async record(release: Release): Promise<void> {
    const ssm = await this.aws.ssm();
    await ssm.putParameter({
      Name: this.nameOf(release.number),
      Value: JSON.stringify(release),
      Type: 'String',
      Overwrite: true,
    });
  }

  /**
   * Marks every other live release superseded, so exactly one is live. The new one is written first: a run
   * killed in between leaves two live (the newest serves, as current() reads it), never none, which would
   * make the next deploy plan the app without its services. A live record is final (its deploy never writes
   * it again) and only ever changes to superseded, so two deploys marking it write the same value.
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
    const names = (await this.list()).map((r) => this.nameOf(r.number));
    for (let i = 0; i < names.length; i += 10) await ssm.deleteParameters({ Names: names.slice(i, i + 10) });
  }

  private nameOf(number: number): string {
    return `${this.prefix}${String(number).padStart(6, '0')}`;
  }
}

/** Who is deploying: the AWS identity (from STS) and the local user name. */
export async function deployer(aws: AwsClients): Promise<string> {
  const sts = await aws.sts();
  const { Arn } = await sts.getCallerIdentity({});
  return `${Arn ?? 'unknown'} (${userInfo().username})`;
}
