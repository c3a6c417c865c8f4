// Which AWS service and operation a request is, read as AWS reads it: the service from the SigV4 credential
// scope, the operation from X-Amz-Target (JSON protocols), Action= (query protocols) or method and path (REST).
import type { IncomingHttpHeaders } from 'node:http';

export type Protocol = 'query' | 'ec2' | 'json' | 'rest-json' | 'rest-xml';

export interface Call {
  /** Order of arrival at the model, from 0. */
  index: number;
  method: string;
  /** Path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** The signing name in the credential scope: `rds`, `ec2`, `elasticloadbalancing`, `s3`... */
  service: string;
  region: string;
  protocol: Protocol;
  /** `CreateDBInstance`; REST calls without a known name read `PUT /schedules/{name}`. */
  operation: string;
  /** The form of a query-protocol call. */
  form: URLSearchParams;
  /** The body of a JSON call (JSON and REST-JSON protocols), or {}. */
  json: Record<string, unknown>;
}

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

const REST_XML = new Set(['s3', 'cloudfront', 'route53']);

export function identify(
  index: number,
  request: { method: string; url: string; headers: IncomingHttpHeaders },
  body: Buffer,
): Call {
  const url = new URL(request.url, 'http://model');
  const { service, region } = scopeOf(request.headers.authorization, url.searchParams);
  const target = header(request.headers, 'x-amz-target');
  const contentType = header(request.headers, 'content-type') ?? '';
  const text = body.toString('utf8');
  let protocol: Protocol;
  let operation: string;
  let form = new URLSearchParams();
  let json: Record<string, unknown> = {};
  if (target) {
    protocol = 'json';
    operation = target.split('.').at(-1)!;
    json = parseJson(text);
  } else if (contentType.includes('x-www-form-urlencoded') || url.searchParams.has('Action')) {
    form = new URLSearchParams(text);
    for (const [k, v] of url.searchParams) if (!form.has(k)) form.set(k, v);
    protocol = service === 'ec2' ? 'ec2' : 'query';
    operation = form.get('Action') ?? 'unknown';
  } else {
    protocol = REST_XML.has(service) ? 'rest-xml' : 'rest-json';
    if (protocol === 'rest-json') json = parseJson(text);
    operation = restOperation(service, request.method, url.pathname, url.searchParams, request.headers);
  }
  return {
    index,
    method: request.method,
    path: url.pathname,
    query: url.searchParams,
    headers: request.headers,
    body,
    service,
    region,
    protocol,
    operation,
    form,
    json,
  };
}

export function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** `Credential=AKID/20240101/us-east-1/rds/aws4_request`, in the Authorization header or a presigned URL. */
function scopeOf(authorization: string | undefined, query: URLSearchParams) {
  const credential =
    /Credential=([^,\s]+)/.exec(authorization ?? '')?.[1] ?? query.get('X-Amz-Credential') ?? '';
  const [, , region = '', service = ''] = credential.split('/');
  return { service, region };
}

function parseJson(text: string): Record<string, unknown> {
  if (!text.trim().startsWith('{')) return {};
  try {
    return JSON.parse(text) as Record<string, unknown>;
  } catch {
    return {};
  }
}

type Route = [method: string, path: RegExp, operation: string | ((q: URLSearchParams) => string)];

/** REST operations the model needs by name (and the common ones); others are named by method and path. */
const ROUTES: Record<string, Route[]> = {
  cloudfront: [
    [
      'POST',
      /^\/[\d-]+\/distribution$/,
      (q) => (q.has('WithTags') ? 'CreateDistributionWithTags' : 'CreateDistribution'),
    ],
    ['GET', /^\/[\d-]+\/distribution$/, 'ListDistributions'],
    ['GET', /^\/[\d-]+\/distribution\/[^/]+$/, 'GetDistribution'],
    ['DELETE', /^\/[\d-]+\/distribution\/[^/]+$/, 'DeleteDistribution'],
    ['GET', /^\/[\d-]+\/distribution\/[^/]+\/config$/, 'GetDistributionConfig'],
    ['PUT', /^\/[\d-]+\/distribution\/[^/]+\/config$/, 'UpdateDistribution'],
    ['POST', /^\/[\d-]+\/distribution\/[^/]+\/invalidation$/, 'CreateInvalidation'],
    ['GET', /^\/[\d-]+\/distribution\/[^/]+\/invalidation\/[^/]+$/, 'GetInvalidation'],
    ['POST', /^\/[\d-]+\/origin-access-control$/, 'CreateOriginAccessControl'],
    ['GET', /^\/[\d-]+\/origin-access-control$/, 'ListOriginAccessControls'],
    ['GET', /^\/[\d-]+\/origin-access-control\/[^/]+$/, 'GetOriginAccessControl'],
    ['PUT', /^\/[\d-]+\/origin-access-control\/[^/]+\/config$/, 'UpdateOriginAccessControl'],
    ['DELETE', /^\/[\d-]+\/origin-access-control\/[^/]+$/, 'DeleteOriginAccessControl'],
    ['GET', /^\/[\d-]+\/tagging$/, 'ListTagsForResource'],
    [
      'POST',
      /^\/[\d-]+\/tagging$/,
      (q) => (q.get('Operation') === 'Untag' ? 'UntagResource' : 'TagResource'),
    ],
  ],
  route53: [
    ['POST', /^\/[\d-]+\/hostedzone$/, 'CreateHostedZone'],
    ['GET', /^\/[\d-]+\/hostedzone$/, 'ListHostedZones'],
    ['GET', /^\/[\d-]+\/hostedzonesbyname$/, 'ListHostedZonesByName'],
    ['GET', /^\/[\d-]+\/hostedzone\/[^/]+$/, 'GetHostedZone'],
    ['DELETE', /^\/[\d-]+\/hostedzone\/[^/]+$/, 'DeleteHostedZone'],
    ['POST', /^\/[\d-]+\/hostedzone\/[^/]+$/, 'UpdateHostedZoneComment'],
    ['POST', /^\/[\d-]+\/hostedzone\/[^/]+\/rrset\/?$/, 'ChangeResourceRecordSets'],
    ['GET', /^\/[\d-]+\/hostedzone\/[^/]+\/rrset\/?$/, 'ListResourceRecordSets'],
    ['GET', /^\/[\d-]+\/change\/[^/]+$/, 'GetChange'],
    ['POST', /^\/[\d-]+\/tags\/[^/]+\/[^/]+$/, 'ChangeTagsForResource'],
    ['GET', /^\/[\d-]+\/tags\/[^/]+\/[^/]+$/, 'ListTagsForResource'],
  ],
  lambda: [
    ['POST', /^\/[\d-]+\/functions\/?$/, 'CreateFunction'],
    ['GET', /^\/[\d-]+\/functions\/?$/, 'ListFunctions'],
    ['GET', /^\/[\d-]+\/functions\/[^/]+$/, 'GetFunction'],
    ['DELETE', /^\/[\d-]+\/functions\/[^/]+$/, 'DeleteFunction'],
    ['GET', /^\/[\d-]+\/functions\/[^/]+\/configuration$/, 'GetFunctionConfiguration'],
    ['PUT', /^\/[\d-]+\/functions\/[^/]+\/configuration$/, 'UpdateFunctionConfiguration'],
    ['PUT', /^\/[\d-]+\/functions\/[^/]+\/code$/, 'UpdateFunctionCode'],
    ['POST', /^\/[\d-]+\/functions\/[^/]+\/policy$/, 'AddPermission'],
    ['GET', /^\/[\d-]+\/functions\/[^/]+\/policy$/, 'GetPolicy'],
    ['DELETE', /^\/[\d-]+\/functions\/[^/]+\/policy\/[^/]+$/, 'RemovePermission'],
    ['POST', /^\/[\d-]+\/functions\/[^/]+\/invocations$/, 'Invoke'],
    ['GET', /^\/[\d-]+\/tags\/.+$/, 'ListTags'],
    ['POST', /^\/[\d-]+\/tags\/.+$/, 'TagResource'],
    ['DELETE', /^\/[\d-]+\/tags\/.+$/, 'UntagResource'],
  ],
  scheduler: [
    ['GET', /^\/schedules$/, 'ListSchedules'],
    ['POST', /^\/schedules\/[^/]+$/, 'CreateSchedule'],
    ['GET', /^\/schedules\/[^/]+$/, 'GetSchedule'],
    ['PUT', /^\/schedules\/[^/]+$/, 'UpdateSchedule'],
    ['DELETE', /^\/schedules\/[^/]+$/, 'DeleteSchedule'],
  ],
};

const S3_SUBRESOURCES: Record<string, string> = {
  policy: 'BucketPolicy',
  publicAccessBlock: 'PublicAccessBlock',
  encryption: 'BucketEncryption',
  versioning: 'BucketVersioning',
  tagging: 'BucketTagging',
  lifecycle: 'BucketLifecycleConfiguration',
  cors: 'BucketCors',
  ownershipControls: 'BucketOwnershipControls',
  acl: 'BucketAcl',
  location: 'BucketLocation',
  website: 'BucketWebsite',
  notification: 'BucketNotificationConfiguration',
  logging: 'BucketLogging',
};

function restOperation(
  service: string,
  method: string,
  path: string,
  query: URLSearchParams,
  headers: IncomingHttpHeaders,
): string {
  if (service === 's3') return s3Operation(method, path, query, headers);
  for (const [m, re, op] of ROUTES[service] ?? []) {
    if (m === method && re.test(path)) return typeof op === 'string' ? op : op(query);
  }
  // Named by method and path, identifiers left out, so that counts group by operation.
  const shape = path
    .split('/')
    .map((s, i) => (i > 1 && /\d|%|:/.test(s) ? '{id}' : s))
    .join('/');
  return `${method} ${shape}`;
}

function s3Operation(method: string, path: string, query: URLSearchParams, headers: IncomingHttpHeaders) {
  const [, bucket = '', ...key] = path.split('/');
  const sub = [...query.keys()].find((k) => k in S3_SUBRESOURCES);
  const verb = { GET: 'Get', PUT: 'Put', DELETE: 'Delete', HEAD: 'Head', POST: 'Post' }[method] ?? method;
  if (!bucket) return 'ListBuckets';
  if (key.join('/') === '') {
    if (sub) return `${verb}${S3_SUBRESOURCES[sub]}`;
    if (method === 'PUT') return 'CreateBucket';
    if (method === 'GET') return query.get('list-type') === '2' ? 'ListObjectsV2' : 'ListObjects';
    if (method === 'POST' && query.has('delete')) return 'DeleteObjects';
    return `${verb}Bucket`;
  }
  if (method === 'PUT') {
    if (header(headers, 'x-amz-copy-source')) return 'CopyObject';
    return query.has('uploadId') ? 'UploadPart' : 'PutObject';
  }
  if (method === 'POST') return query.has('uploads') ? 'CreateMultipartUpload' : 'CompleteMultipartUpload';
  return `${verb}Object`;
}

/** Calls that make something new each time they are sent: a retry after a lost answer may make a second one. */
export function createsSomething(call: Call): boolean {
  return /^(Create|Run|Request|Register|Allocate|Start|Import|Issue|Copy|Publish)/.test(call.operation);
}
