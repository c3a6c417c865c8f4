// Opening a deployed app through its load balancer's local port, as a browser would (the local AWS's `apps`).
import { request } from 'node:http';
import type { LocalAws } from './local-aws.js';

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One GET, no redirect followed; the cookie jar carries the session from one call to the next. */
export function get(url: string, jar: string[] = []): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: jar.length ? { Cookie: jar.join('; ') } : {} }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk) => {
        body += chunk;
      });
      res.on('end', () => {
        for (const cookie of res.headers['set-cookie'] ?? []) {
          const pair = cookie.split(';')[0]!;
          const name = pair.split('=')[0];
          const at = jar.findIndex((c) => c.startsWith(`${name}=`));
          if (at >= 0) jar.splice(at, 1);
          jar.push(pair);
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

/** The local URL of a stack's load balancer listener (by its AWS port: 80 or 443). */
export async function listenerUrl(aws: LocalAws, dnsNamePart: string, port: number): Promise<string> {
  const found = (await aws.loadBalancers()).find((lb) => lb.dnsName.includes(dnsNamePart));
  const url = found?.listeners[String(port)];
  if (!url) {
    const known = (await aws.loadBalancers()).map((lb) => `${lb.dnsName} ${Object.keys(lb.listeners)}`);
    throw new Error(
      `no load balancer listener on port ${port} matching "${dnsNamePart}" (have: ${known.join('; ')})`,
    );
  }
  return url;
}

/** A browser's cookie jar, reduced to what Django's admin sets, on one site. */
export class Browser {
  private cookies = new Map<string, string>();
  constructor(private url: string) {}
  async request(path: string, init: RequestInit = {}): Promise<Response> {
    const res = await fetch(`${this.url}${path}`, {
      ...init,
      redirect: 'manual',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
    });
    for (const c of res.headers.getSetCookie()) {
      const [k, v] = c.split(';')[0]!.split('=') as [string, string];
      this.cookies.set(k.trim(), v);
    }
    return res;
  }
  async csrf(path: string): Promise<string> {
    const html = await (await this.request(path)).text();
    return /name="csrfmiddlewaretoken" value="([^"]+)"/.exec(html)![1]!;
  }
}

/** The local URL of an HTTP API (its execute-api endpoint), or of a custom domain on API Gateway. */
export async function httpApiUrl(
  aws: LocalAws,
  which: { apiId?: string; domainName?: string },
): Promise<string> {
  // The local AWS starts a server for an API within one round of its controller (50 ms) after it exists.
  for (let round = 0; ; round++) {
    const { apis, domains } = await aws.httpApis();
    const url = which.apiId
      ? apis.find((a) => a.apiId === which.apiId)?.url
      : domains.find((d) => d.domainName === which.domainName)?.url;
    if (url) return url;
    if (round < 1200) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      continue;
    }
    const known = [...apis.map((a) => a.endpoint), ...domains.map((d) => d.domainName)];
    throw new Error(`no HTTP API answers for ${JSON.stringify(which)} (have: ${known.join('; ')})`);
  }
}
