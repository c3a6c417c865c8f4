// Listener: a port on a load balancer and what it does with requests that no rule claims.
import type {
  Action,
  Listener as AwsListener,
  CreateListenerCommandInput,
} from '@aws-sdk/client-elastic-load-balancing-v2';
import { z } from 'zod';
import { type ArgsOf, field, input, tags } from '../../core/args.js';
import { defineResourceType, type Found } from '../../core/resource.js';
import { createOnce } from '../create-once.js';
import { ignoreNotFound } from '../errors.js';
import { type TagMap, tagList, userTags } from '../tags.js';
import {
  describeTags,
  type ElbV2,
  forwardTarget,
  knownStrings,
  listenersOf,
  ownedArn,
  ownedAs,
  stackArns,
  updateTags,
} from './common.js';

const KIND = 'listener';

/** TLS 1.3 and 1.2 only, forward secrecy only: AWS's recommended policy. */
export const DEFAULT_SSL_POLICY = 'ELBSecurityPolicy-TLS13-1-2-2021-06';

const CONTENT_TYPES = [
  'text/plain',
  'text/css',
  'text/html',
  'application/javascript',
  'application/json',
] as const;

const defaultAction = z.union([
  z.strictObject({
    /** Sends every request to this target group (a TargetGroup's arn). */
    forward: input(z.string().min(1)),
  }),
  z.strictObject({
    /** Answers every request with a 301 to the same URL on HTTPS, port 443. */
    redirectToHttps: z.literal(true),
  }),
  z.strictObject({
    /** Answers every request itself (e.g. a 503 maintenance page, or a 404 behind host rules). */
    fixedResponse: z.strictObject({
      /** 2XX, 4XX or 5XX. */
      status: z
        .number()
        .int()
        .min(200)
        .max(599)
        .refine((s) => s < 300 || s >= 400, 'a fixed response is 2XX, 4XX or 5XX; use a redirect for 3XX'),
      /** Up to 1024 characters. @default none */
      body: z.string().min(1).max(1024).optional(),
      /** @default 'text/plain' */
      contentType: z.enum(CONTENT_TYPES).default('text/plain'),
    }),
  }),
]);

const fields = {
  /** The label in the stack (listeners have no name in AWS). */
  name: field(z.string().min(1).max(200)),
  /** The load balancer it listens on (a LoadBalancer's arn). Changing it means a new listener. */
  loadBalancerArn: field(input(z.string().min(1)), { replace: true }),
  /** e.g. 443 for HTTPS, 80 for HTTP. Changed in place. */
  port: field(z.number().int().min(1).max(65535)),
  /** 'HTTPS' needs certificateArn; 'HTTP' usually only redirects to HTTPS. Changed in place. */
  protocol: field(z.enum(['HTTP', 'HTTPS'])),
  /** The ACM certificate an HTTPS listener presents (a Certificate's arn); required for HTTPS. @default null */
  certificateArn: field(input(z.string().min(1)).nullable().default(null)),
  /** TLS versions and ciphers of an HTTPS listener. @default 'ELBSecurityPolicy-TLS13-1-2-2021-06' (TLS 1.3 and 1.2) */
  sslPolicy: field(z.string().min(1).default(DEFAULT_SSL_POLICY)),
  /**
   * What it does with a request no rule claims: `{ forward: targetGroup.arn }`,
   * `{ redirectToHttps: true }` (301 to https://same-host:443/same-path), or
   * `{ fixedResponse: { status: 503, body: 'Back soon' } }`.
   */
  defaultAction: field(defaultAction),
  tags: field(tags()),
};

export interface ListenerOutputs {
  arn: string;
}

type Args = ArgsOf<typeof fields>;
type ListenerFound = Found<Args, ListenerOutputs>;
type DefaultAction = Args['defaultAction'];

export const Listener = defineResourceType({
  kind: KIND,
  noun: 'listener',
  listedAs: 'elasticloadbalancing',
  fields,
  outputs: ['arn'],
  defaultOutput: 'arn',
  identity: { by: 'address' },

  check(args) {
    if (args.protocol === 'HTTPS' && args.certificateArn == null)
      return ["certificateArn: an HTTPS listener needs a certificate; pass a Certificate's arn"];
    if (args.protocol === 'HTTP' && args.certificateArn != null)
      return ['certificateArn: an HTTP listener takes no certificate; remove it, or set protocol: "HTTPS"'];
    if (args.protocol === 'HTTPS' && args.defaultAction && 'redirectToHttps' in args.defaultAction)
      return ['defaultAction: an HTTPS listener redirecting to HTTPS would loop; forward instead'];
    return [];
  },

  async find(ctx, wanted) {
    const [elbv2, stackBalancers] = await Promise.all([ctx.aws.elbv2(), stackArns(ctx, 'loadbalancer')]);
    // Listeners have no tag filter: list those of the stack's load balancers, and of any named by ARN.
    const named = knownStrings(wanted.map((w) => w.args.loadBalancerArn));
    const listeners = await listenersOf(elbv2, [...stackBalancers, ...named]);
    if (listeners.length === 0) return [];
    const tags = await describeTags(
      elbv2,
      listeners.map((l) => l.ListenerArn!),
    );
    return listeners
      .filter((l) => ownedAs(tags.get(l.ListenerArn!), ctx.stack, KIND))
      .map((l) => read(l, tags.get(l.ListenerArn!)!));
  },

  async create(ctx, args) {
    const elbv2 = await ctx.aws.elbv2();
    // One port, one listener: after a lost answer, the one on this port is ours when its tags say so.
    const arn = await createOnce(
      async () =>
        (
          await elbv2.createListener({
            LoadBalancerArn: args.loadBalancerArn,
            ...settings(args),
            Tags: tagList(ctx.tags(args.tags)),
          })
        ).Listeners![0]!.ListenerArn!,
      async () => {
        const on = await listenersOf(elbv2, [args.loadBalancerArn]);
        return ownedArn(ctx, elbv2, on.find((l) => l.Port === args.port)?.ListenerArn);
      },
    );
    return readOne(elbv2, arn);
  },

  async update(ctx, found, args, changed) {
    const elbv2 = await ctx.aws.elbv2();
    if (changed.some((c) => c !== 'tags')) {
      await elbv2.modifyListener({ ListenerArn: found.id, ...settings(args) });
    }
    if (changed.includes('tags')) await updateTags(elbv2, found.id, found.args.tags ?? {}, args.tags);
    return readOne(elbv2, found.id);
  },

  async delete(ctx, found) {
    const elbv2 = await ctx.aws.elbv2();
    // Deleting its load balancer first takes the listener with it.
    await ignoreNotFound(elbv2.deleteListener({ ListenerArn: found.id }));
  },
});

/** Everything but the load balancer and tags, as CreateListener and ModifyListener both take it. */
function settings(args: Args) {
  const https = args.protocol === 'HTTPS';
  return {
    Port: args.port,
    Protocol: args.protocol,
    ...(https ? { SslPolicy: args.sslPolicy, Certificates: [{ CertificateArn: args.certificateArn! }] } : {}),
    DefaultActions: [toAction(args.defaultAction)],
  } satisfies Partial<CreateListenerCommandInput>;
}

function toAction(a: DefaultAction): Action {
  if ('forward' in a) return { Type: 'forward', TargetGroupArn: a.forward };
  if ('redirectToHttps' in a) {
    return {
      Type: 'redirect',
      RedirectConfig: {
        Protocol: 'HTTPS',
        Port: '443',
        Host: '#{host}',
        Path: '/#{path}',
        Query: '#{query}',
        StatusCode: 'HTTP_301',
      },
    };
  }
  const { status, body, contentType } = a.fixedResponse;
  return {
    Type: 'fixed-response',
    FixedResponseConfig: { StatusCode: String(status), ContentType: contentType, MessageBody: body },
  };
}

/** The declared form of AWS's default action; undefined for anything Touchdown does not declare (it then reads as a change). */
function fromActions(actions: Action[] | undefined): DefaultAction | undefined {
  if (actions?.length !== 1) return undefined;
  const [a] = actions as [Action];
  const target = forwardTarget(a);
  if (target) return { forward: target };
  const r = a.RedirectConfig;
  if (
    a.Type === 'redirect' &&
    r?.Protocol === 'HTTPS' &&
    r.Port === '443' &&
    r.StatusCode === 'HTTP_301' &&
    (r.Host ?? '#{host}') === '#{host}' &&
    (r.Path ?? '/#{path}') === '/#{path}' &&
    (r.Query ?? '#{query}') === '#{query}'
  ) {
    return { redirectToHttps: true };
  }
  const f = a.FixedResponseConfig;
  if (a.Type === 'fixed-response' && f?.StatusCode) {
    return {
      fixedResponse: {
        status: Number(f.StatusCode),
        contentType: (f.ContentType ?? 'text/plain') as (typeof CONTENT_TYPES)[number],
        ...(f.MessageBody ? { body: f.MessageBody } : {}),
      },
    };
  }
  return undefined;
}

async function readOne(elbv2: ElbV2, arn: string): Promise<ListenerFound> {
  const [described, tags] = await Promise.all([
    elbv2.describeListeners({ ListenerArns: [arn] }),
    describeTags(elbv2, [arn]),
  ]);
  const l = described.Listeners?.[0];
  if (!l) throw new Error(`listener ${arn} disappeared while being written`);
  return read(l, tags.get(arn) ?? {});
}

function read(l: AwsListener, tags: TagMap): ListenerFound {
  const arn = l.ListenerArn!;
  const https = l.Protocol === 'HTTPS';
  const args: Partial<Args> = {
    loadBalancerArn: l.LoadBalancerArn,
    port: l.Port,
    protocol: l.Protocol as Args['protocol'],
    certificateArn: l.Certificates?.[0]?.CertificateArn ?? null,
    defaultAction: fromActions(l.DefaultActions),
    tags: userTags(tags),
  };
  // An HTTP listener has no TLS policy to read back, so its declared default is not compared.
  if (https) args.sslPolicy = l.SslPolicy;
  return { key: tags['touchdown:resource'] ?? arn, id: arn, args, outputs: { arn } };
}
