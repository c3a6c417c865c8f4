// The app's own secrets in Parameter Store, under /<app>/<stage>/: set by people, read by tasks at start.
import type { AwsClients } from '../aws/clients.js';
import { allPages } from '../aws/pages.js';
import { MAX_BYTES } from '../aws/ssm/parameter.js';
import type { LoadedManifest } from '../config/load-manifest.js';
import { ConfigError } from '../core/errors.js';
import { secretPath } from './blueprint/data.js';

export class Secrets {
  readonly path: string;
  constructor(
    private readonly aws: AwsClients,
    private readonly app: LoadedManifest,
  ) {
    this.path = secretPath({
      app: app.manifest.app,
      stage: app.stage,
      stack: app.stackName,
      region: aws.region,
      account: '',
    });
  }

  async set(name: string, value: string): Promise<void> {
    if (!/^[A-Z_][A-Z0-9_]*$/.test(name))
      throw new ConfigError(`"${name}": secret names are like STRIPE_API_KEY`);
    // Checked before the call: Parameter Store keeps no empty value, and a Standard one holds 4 KB.
    // https://docs.aws.amazon.com/systems-manager/latest/userguide/parameter-store-advanced-parameters.html
    if (value.length === 0) throw new ConfigError(`${name}: the value is empty; give the secret's value`);
    const bytes = Buffer.byteLength(value);
    if (bytes > MAX_BYTES.Standard) {
      throw new ConfigError(
        `${name}: ${bytes} bytes; Parameter Store keeps up to ${MAX_BYTES.Standard} per secret: keep a larger one (a key file) in a private bucket and store its location here`,
      );
    }
    const ssm = await this.aws.ssm();
    await ssm.putParameter({
      Name: `${this.path}${name}`,
      Value: value,
      Type: 'SecureString',
      Overwrite: true,
    });
  }

  async get(name: string): Promise<string | undefined> {
    const ssm = await this.aws.ssm();
    try {
      return (await ssm.getParameter({ Name: `${this.path}${name}`, WithDecryption: true })).Parameter?.Value;
    } catch (err) {
      if ((err as { name?: string }).name === 'ParameterNotFound') return undefined;
      throw err;
    }
  }

  async list(): Promise<{ name: string; modified?: Date; declared: boolean }[]> {
    const ssm = await this.aws.ssm();
    const found = await allPages(
      (NextToken) => ssm.getParametersByPath({ Path: this.path, NextToken, WithDecryption: false }),
      (p) => p.Parameters,
    );
    const names = new Map(found.map((p) => [p.Name!.slice(this.path.length), p.LastModifiedDate]));
    for (const declared of this.app.manifest.secrets)
      if (!names.has(declared)) names.set(declared, undefined);
    return [...names]
      .map(([name, modified]) => ({ name, modified, declared: this.app.manifest.secrets.includes(name) }))
      .sort((a, b) => a.name.localeCompare(b.name));
  }

  async unset(name: string): Promise<boolean> {
    const ssm = await this.aws.ssm();
    try {
      await ssm.deleteParameter({ Name: `${this.path}${name}` });
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ParameterNotFound') return false;
      throw err;
    }
  }

  /** Declared secrets nobody has set yet: tasks would fail to start without them. */
  async missing(): Promise<string[]> {
    const set = new Set((await this.list()).filter((s) => s.modified).map((s) => s.name));
    return this.app.manifest.secrets.filter((s) => !set.has(s));
  }
}
