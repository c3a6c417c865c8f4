// IAM OpenID Connect identity provider: lets a CI service's tokens (GitHub Actions, CircleCI) assume a role
// without long-lived keys. An account has one provider per issuer URL, shared by every stack that trusts that
// issuer: "You cannot register the same provider multiple times in a single AWS account".
// https://docs.aws.amazon.com/IAM/latest/APIReference/API_CreateOpenIDConnectProvider.html
//
// Sharing without fighting: each stack using the provider marks it with its own tag `touchdown:uses:<stack>`;
// creating one that exists adopts it (adds the mark and any missing client ID); client IDs are only ever added,
// never removed, as another stack may rely on them; deleting removes the stack's mark, and the provider itself
// goes only when Touchdown made it (`touchdown:created-by`) and no stack uses it any more. A provider made by
// hand stays.
import type { IAM } from '@aws-sdk/client-iam';
import pLimit from 'p-limit';
import { z } from 'zod';
import { type ArgsOf, field } from '../../core/args.js';
import { defineResourceType, type FindContext, type Found } from '../../core/resource.js';
import { errorCode, ignoreNotFound } from '../errors.js';
import { tagList, tagMap } from '../tags.js';

const USES = 'touchdown:uses:';
const CREATED_BY = 'touchdown:created-by';

const fields = {
  /** Its label in the stack, e.g. `github`: IAM knows a provider only by its URL. */
  name: field(z.string().min(1).max(64)),
  /** The issuer, e.g. `https://token.actions.githubusercontent.com`. Changing it means another provider. */
  url: field(
    z
      .string()
      .max(255)
      .regex(
        /^https:\/\/[^/?#:]+(\/[^?#]*)?$/,
        'an https URL without port or query, like https://token.actions.githubusercontent.com',
      ),
    { replace: true },
  ),
  /** The audiences (`aud`) this stack's tokens carry, e.g. `sts.amazonaws.com`; others already there are kept. */
  clientIds: field(z.array(z.string().min(1).max(255)).min(1).max(100), { unordered: true }),
  /**
   * SHA-1 thumbprints (40 hex digits) of the issuer's certificate. Left out, IAM finds it itself, and for
   * GitHub and other issuers it trusts by their certificate authority it uses none.
   * https://docs.aws.amazon.com/IAM/latest/UserGuide/id_roles_providers_create_oidc_verify-thumbprint.html
   */
  thumbprints: field(
    z
      .array(z.string().regex(/^[0-9a-fA-F]{40}$/, 'a thumbprint is 40 hexadecimal digits'))
      .max(5)
      .optional(),
    { unordered: true, normalize: (v) => (Array.isArray(v) ? v.map((t) => String(t).toLowerCase()) : v) },
  ),
};

export interface OidcProviderOutputs {
  arn: string;
  /** The issuer without `https://`, as trust policy condition keys spell it (`<url>:sub`). */
  issuer: string;
}

type Args = ArgsOf<typeof fields>;
type ProviderFound = Found<Args, OidcProviderOutputs>;

/** The issuer as IAM names it in ARNs and condition keys: the URL without its scheme. */
export const issuerOf = (url: string) => url.replace(/^https:\/\//, '').replace(/\/$/, '');

export const OidcProvider = defineResourceType({
  kind: 'oidc-provider',
  noun: 'IAM OIDC provider',
  fields,
  outputs: ['arn', 'issuer'],
  defaultOutput: 'arn',
  identity: { by: 'name', name: (args) => (args.url ? issuerOf(args.url) : undefined) },

  async find(ctx, wanted) {
    const iam = await ctx.aws.iam();
    // One list call for the account (at most 100 providers), then one read each: tags come only with the read.
    const { OpenIDConnectProviderList: listed = [] } = await iam.listOpenIDConnectProviders({});
    const limit = pLimit(8);
    const read = await Promise.all(listed.map((p) => limit(() => readProvider(iam, p.Arn!))));
    return read
      .filter((p): p is ProviderState => p?.uses.has(ctx.stack) === true)
      .map((p) => found(p, wanted.find((w) => w.args.url && issuerOf(w.args.url) === p.issuer)?.args));
  },

  async create(ctx, args) {
    const iam = await ctx.aws.iam();
    const mark = { [`${USES}${ctx.stack}`]: ctx.address };
    let arn: string;
    try {
      const made = await iam.createOpenIDConnectProvider({
        Url: args.url,
        ClientIDList: args.clientIds,
        ThumbprintList: args.thumbprints,
        Tags: tagList({ ...mark, [CREATED_BY]: ctx.stack }),
      });
      arn = made.OpenIDConnectProviderArn!;
    } catch (err) {
      if (errorCode(err) !== 'EntityAlreadyExists') throw err;
      const { OpenIDConnectProviderList: listed = [] } = await iam.listOpenIDConnectProviders({});
      const issuer = issuerOf(args.url);
      arn = listed.map((p) => p.Arn!).find((a) => a.endsWith(`:oidc-provider/${issuer}`)) ?? '';
      if (!arn) throw err;
      ctx.progress(`the account has a provider for ${issuerOf(args.url)} already: this stack uses it too`);
      await iam.tagOpenIDConnectProvider({ OpenIDConnectProviderArn: arn, Tags: tagList(mark) });
    }
    return converge(iam, arn, args, ctx);
  },

  async update(ctx, found, args) {
    const iam = await ctx.aws.iam();
    return converge(iam, found.outputs.arn, args, ctx);
  },

  async delete(ctx, f) {
    const iam = await ctx.aws.iam();
    const arn = f.outputs.arn;
    await ignoreNotFound(
      iam.untagOpenIDConnectProvider({ OpenIDConnectProviderArn: arn, TagKeys: [`${USES}${ctx.stack}`] }),
    );
    const now = await readProvider(iam, arn);
    if (now && now.uses.size === 0 && now.createdByTouchdown) {
      await ignoreNotFound(iam.deleteOpenIDConnectProvider({ OpenIDConnectProviderArn: arn }));
    }
  },
});

/** Adds the client IDs the provider lacks and sets declared thumbprints; reads it back. */
async function converge(iam: IAM, arn: string, args: Args, ctx: FindContext): Promise<ProviderFound> {
  const have = await readProvider(iam, arn);
  if (!have) throw new Error(`IAM OIDC provider ${arn} is not readable right after it was made; run again`);
  const missing = args.clientIds.filter((id) => !have.clientIds.includes(id));
  for (const ClientID of missing) {
    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_AddClientIDToOpenIDConnectProvider.html
    await iam.addClientIDToOpenIDConnectProvider({ OpenIDConnectProviderArn: arn, ClientID });
  }
  const thumbs = (list: string[]) =>
    [...list]
      .map((t) => t.toLowerCase())
      .sort()
      .join();
  if (args.thumbprints && thumbs(args.thumbprints) !== thumbs(have.thumbprints)) {
    // https://docs.aws.amazon.com/IAM/latest/APIReference/API_UpdateOpenIDConnectProviderThumbprint.html
    await iam.updateOpenIDConnectProviderThumbprint({
      OpenIDConnectProviderArn: arn,
      ThumbprintList: args.thumbprints,
    });
  }
  const after = await readProvider(iam, arn);
  if (!after?.uses.has(ctx.stack))
    throw new Error(`IAM OIDC provider ${arn} lost this stack's mark; run again`);
  return found(after, args);
}

interface ProviderState {
  arn: string;
  issuer: string;
  url: string;
  clientIds: string[];
  thumbprints: string[];
  uses: Map<string, string>;
  createdByTouchdown: boolean;
}

async function readProvider(iam: IAM, arn: string): Promise<ProviderState | undefined> {
  const got = await ignoreNotFound(iam.getOpenIDConnectProvider({ OpenIDConnectProviderArn: arn }));
  if (!got) return undefined;
  const tags = tagMap(got.Tags);
  const issuer = arn.split(':oidc-provider/')[1] ?? issuerOf(got.Url ?? '');
  const uses = new Map(
    Object.entries(tags)
      .filter(([k]) => k.startsWith(USES))
      .map(([k, v]) => [k.slice(USES.length), v]),
  );
  return {
    arn,
    issuer,
    url: `https://${issuer}`,
    clientIds: got.ClientIDList ?? [],
    thumbprints: got.ThumbprintList ?? [],
    uses,
    createdByTouchdown: CREATED_BY in tags,
  };
}

/** Client IDs read as this stack's wanted ones when all are there: others belong to the stacks sharing it. */
function found(p: ProviderState, wanted: Partial<Args> | undefined): ProviderFound {
  const want = wanted?.clientIds;
  const clientIds = want?.every((id) => p.clientIds.includes(id)) ? [...want] : p.clientIds;
  return {
    key: p.issuer,
    id: p.arn,
    args: { url: p.url, clientIds, thumbprints: p.thumbprints },
    outputs: { arn: p.arn, issuer: p.issuer },
  };
}
