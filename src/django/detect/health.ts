// A path that answers 200 for this project: `/` when its URLconf serves it, else a health view it has,
// else the admin's login page (API-only projects whose `/` is 404).
import { moduleFile, readIfExists } from './files.js';

export interface HealthPath {
  path: string;
  why: string;
}

interface Route {
  prefix: string;
  /** The included URLconf (dotted), when the route includes one. */
  include?: string;
  /** An include whose module is not the project's own (wagtail_urls, router.urls, admin.site.urls). */
  opaque?: string;
}

/** path("x/", view), re_path(r"^x/$", …), url(r"^x/", include("y")) → routes. */
function routes(text: string): Route[] {
  const out: Route[] = [];
  // A prefix held in a variable (`path(prefix, include(…))`, healthchecks' SITE_ROOT) is taken as the root.
  const call = /\b(path|re_path|url)\(\s*(?:r?["']([^"']*)["']|[a-z_]\w*)\s*,\s*([^\n]*)/g;
  // Comments and docstrings (startproject's urls.py shows `path('', views.home)` in one) route nothing.
  const code = text.replace(/^\s*#.*$/gm, '').replace(/("""|''')[\s\S]*?\1/g, '');
  for (const m of code.matchAll(call)) {
    const raw = m[2] ?? '';
    const prefix = m[1] === 'path' ? raw : raw.replace(/^\^/, '').replace(/\$$/, '').replace(/\\/g, '');
    const target = m[3]!;
    const included = /include\(\s*(?:\(\s*)?["']([\w.]+)["']/.exec(target)?.[1];
    if (included) out.push({ prefix, include: included });
    else if (/include\(|\.urls\b|_urls\b/.test(target)) out.push({ prefix, opaque: target.trim() });
    else out.push({ prefix });
  }
  return out;
}

const HEALTHY =
  /^(?:[\w-]+\/)*(health|healthz|healthcheck|health-check|health_check|ht|ping|status|_health|up|alive|livez|readyz)\/?$/;

/** Reads ROOT_URLCONF and the project's own includes (depth 3) for a route at `/` or a health view. */
export async function findHealthPath(root: string, urlconf: string | undefined): Promise<HealthPath> {
  if (!urlconf) return { path: '/', why: 'no ROOT_URLCONF found; `/` assumed' };
  const all: Route[] = [];
  const visit = async (module: string, base: string, depth: number): Promise<void> => {
    const file = await moduleFile(root, module);
    const text = file && (await readIfExists(file));
    if (!text || depth > 3) return;
    for (const route of routes(text)) {
      const full = base + route.prefix;
      // An include of an installed package's URLconf (cms.urls) serves what it serves: opaque to us.
      if (route.include && !(await moduleFile(root, route.include))) {
        all.push({ prefix: full, opaque: route.include });
        continue;
      }
      all.push({ ...route, prefix: full });
      if (route.include) await visit(route.include, full, depth + 1);
    }
  };
  await visit(urlconf, '', 0);
  if (all.some((r) => r.prefix === '' && !r.include && !r.opaque))
    return { path: '/', why: `${urlconf} routes \`/\`` };
  const opaqueRoot = all.find((r) => r.prefix === '' && r.opaque && !/admin/.test(r.opaque));
  if (opaqueRoot)
    return { path: '/', why: `${urlconf} hands \`/\` to ${opaqueRoot.opaque?.replace(/\)?,?$/, '')}` };
  const health = all.find((r) => HEALTHY.test(r.prefix) && !r.include && !r.opaque);
  if (health) return { path: `/${health.prefix}`, why: `\`/\` has no route; ${urlconf} has a health view` };
  const admin = all.find((r) => r.opaque && /admin\.site\.urls/.test(r.opaque));
  if (admin)
    return { path: `/${admin.prefix}login/`, why: '`/` has no route; the admin login page answers 200' };
  return {
    path: '/',
    why: `no route at \`/\` found in ${urlconf}: set web.healthCheck to a path that answers 200`,
  };
}
