// Destroying a stack whose database and media bucket hold data: refused as a whole without --force (nothing
// is deleted, the message names each data store); with --force the data goes, a final snapshot of the
// database stays. test/operate.test.ts walks the same commands as part of a day of operating the app.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runCli } from '../support/cli.js';
import { declared, deployArgs, found, useAppAws, xkcdApp } from './app.js';

const t = useAppAws();

/** Everything boto3's tagging API finds with the stack's tag, by Touchdown's address tag. */
async function tagged(stack: string): Promise<string[]> {
  const out: string[] = [];
  let PaginationToken: string | undefined;
  do {
    const page = await t.boto.call('resourcegroupstaggingapi', 'GetResources', {
      TagFilters: [{ Key: 'touchdown:stack', Values: [stack] }],
      ...(PaginationToken ? { PaginationToken } : {}),
    });
    for (const r of page.ResourceTagMappingList as {
      ResourceARN: string;
      Tags: { Key: string; Value: string }[];
    }[]) {
      out.push(r.Tags.find((tag) => tag.Key === 'touchdown:resource')?.Value ?? r.ResourceARN);
    }
    PaginationToken = page.PaginationToken || undefined;
  } while (PaginationToken);
  return out.sort();
}

describe('destroying a stack that holds data', () => {
  it('refuses without --force and deletes nothing; with --force keeps a final snapshot', {
    timeout: 180_000,
  }, async () => {
    const a = await xkcdApp('keep');
    const cli = (...args: string[]) => runCli(args, { cwd: a.cwd, aws: t.aws });
    const v1 = a.image('v1');
    const deployed = await cli(...deployArgs(v1));
    assert.equal(deployed.code, 0, deployed.stderr);
    const media = (await t.boto.call('s3', 'ListBuckets')).Buckets.map((b: { Name: string }) => b.Name).find(
      (n: string) => n.startsWith(`${a.stack}-media-`),
    );
    await t.boto.call('s3', 'PutObject', { Bucket: media, Key: 'uploads/comic.png', Body: 'png' });
    const before = await tagged(a.stack);

    const refused = await cli('destroy', '--yes');
    assert.equal(refused.code, 1, refused.stdout + refused.stderr);
    const said = refused.stdout + refused.stderr;
    assert.match(said, /RDS instance "db".*a PostgreSQL database/);
    assert.match(said, /S3 bucket "[^"]*media[^"]*".*1 object/);
    assert.match(said, /--force/);
    assert.deepEqual(await tagged(a.stack), before, 'nothing was deleted');
    assert.deepEqual(await found(t.boto, a), await declared(a, v1));

    const destroyed = await cli('destroy', '--yes', '--force');
    assert.match(destroyed.stdout, /deleted/);
    const { DBSnapshots } = await t.boto.call('rds', 'DescribeDBSnapshots', {
      DBInstanceIdentifier: `${a.stack}-db`,
    });
    assert.equal(DBSnapshots.length, 1, 'a final snapshot of the database');
    assert.equal(DBSnapshots[0].Status, 'available');
    const left = Object.entries(await found(t.boto, a)).filter(([, n]) => n > 0);
    assert.deepEqual(Object.fromEntries(left), {}, destroyed.stdout);
  });
});
