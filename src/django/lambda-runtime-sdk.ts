// Lambda's Python runtimes include the AWS SDK for Python (boto3, botocore, s3transfer): about a third of an
// unpacked Django package. The package leaves them out when nothing the project installs asks for a version the
// runtime may not have. https://docs.aws.amazon.com/lambda/latest/dg/lambda-python.html#python-sdk-included
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The SDK's distributions, by the folders they install. */
export const RUNTIME_SDK: Record<string, string[]> = {
  boto3: ['boto3'],
  botocore: ['botocore'],
  s3transfer: ['s3transfer'],
};

/**
 * The oldest SDK a supported runtime may carry. AWS updates each runtime's SDK, by region, without a published
 * table; the oldest supported runtime (python3.10, April 2023) came after boto3 and botocore 1.26 (October 2022),
 * so a requirement no stricter than that is met by every runtime.
 */
const RUNTIME_FLOOR = [1, 26, 0];

const parse = (version: string) => version.split('.').map((p) => Number.parseInt(p, 10) || 0);
function compare(a: number[], b: number[]): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const d = (a[i] ?? 0) - (b[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

/**
 * Whether a version specifier ("", ">=1.20", ">=1.4.4,<2") admits every SDK version a runtime may have: lower
 * bounds at or below the floor and no bound below the next major version; anything else (==, ~=, !=) keeps the
 * project's own copy.
 */
export function admitsRuntime(specifier: string): boolean {
  for (const clause of specifier
    .split(',')
    .map((c) => c.trim())
    .filter(Boolean)) {
    const m = /^(>=|>|<=|<)\s*([0-9][0-9.]*)$/.exec(clause);
    if (!m) return false;
    const [, op, version] = m;
    const v = parse(version!);
    if ((op === '>=' || op === '>') && compare(v, RUNTIME_FLOOR) > 0) return false;
    if ((op === '<' || op === '<=') && compare(v, [2]) < 0) return false;
  }
  return true;
}

/** Every requirement on the SDK in `lines` (requirements files or Requires-Dist), as [name, specifier]. */
function sdkRequirements(lines: string[]): [string, string][] {
  const out: [string, string][] = [];
  for (const raw of lines) {
    const line = raw
      .replace(/^Requires-Dist:\s*/i, '')
      .replace(/\s+#.*$/, '')
      .split(';')[0]!
      .trim();
    const m = /^([A-Za-z0-9_.-]+)\s*(?:\[[^\]]*\])?\s*\(?([^)]*)\)?$/.exec(line);
    const name = m?.[1]?.toLowerCase().replace(/_/g, '-');
    if (name && name in RUNTIME_SDK) out.push([name, m![2]!.trim()]);
  }
  return out;
}

/**
 * Whether the package can leave the SDK to the runtime: every requirement on boto3, botocore or s3transfer, in the
 * project's requirement files and in the metadata of everything installed, admits the runtime's. Returns the
 * requirement that keeps the SDK in the package, or undefined when the runtime's will do.
 */
export async function sdkKeptBy(requirementTexts: string[], installed: string): Promise<string | undefined> {
  const lines = requirementTexts.flatMap((t) => t.split('\n'));
  for (const entry of await readdir(installed)) {
    if (!entry.endsWith('.dist-info')) continue;
    const metadata = await readFile(join(installed, entry, 'METADATA'), 'utf8').catch(() => '');
    const owner = entry
      .replace(/-[^-]+\.dist-info$/, '')
      .toLowerCase()
      .replace(/_/g, '-');
    // The SDK's own packages pin each other; what matters is what the rest of the project asks of them.
    if (owner in RUNTIME_SDK) continue;
    lines.push(...metadata.split('\n').filter((l) => /^Requires-Dist:/i.test(l)));
  }
  for (const [name, specifier] of sdkRequirements(lines)) {
    if (!admitsRuntime(specifier)) return `${name}${specifier}`;
  }
  return undefined;
}

/** Whether a zip path belongs to the SDK the runtime provides (its packages and their metadata). */
export function isRuntimeSdkPath(path: string): boolean {
  const top = path.split('/')[0]!;
  return Object.values(RUNTIME_SDK).some((folders) =>
    folders.some((f) => top === f || (top.startsWith(`${f}-`) && top.endsWith('.dist-info'))),
  );
}
