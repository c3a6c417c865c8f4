// Physical names for resources AWS makes us name: derived from the stack and the user's path, cut to each
// service's limit with a short hash so that two long names never collide.
import { createHash } from 'node:crypto';

export interface NameRules {
  /** Longest name the service accepts. */
  max: number;
  /** Characters the service accepts; others become hyphens. */
  allowed?: RegExp;
  lowerCase?: boolean;
  /** Some services want a letter first (RDS, ElastiCache). */
  letterFirst?: boolean;
}

/** `xkcd-prod` + `web/api` → `xkcd-prod-web-api`, or `xkcd-prod-web-a-3f9c1d` when too long. */
export function physicalName(stack: string, path: string, rules: NameRules): string {
  const allowed = rules.allowed ?? /[A-Za-z0-9-]/;
  let name = `${stack}-${path}`
    .split('')
    .map((c) => (allowed.test(c) ? c : '-'))
    .join('')
    .replace(/-+/g, '-')
    .replace(/^-|-$/g, '');
  if (rules.lowerCase) name = name.toLowerCase();
  if (rules.letterFirst && !/^[A-Za-z]/.test(name)) name = `td-${name}`;
  if (name.length <= rules.max) return name;
  const hash = createHash('sha256').update(`${stack}/${path}`).digest('hex').slice(0, 6);
  return `${name.slice(0, rules.max - hash.length - 1).replace(/-$/, '')}-${hash}`;
}
