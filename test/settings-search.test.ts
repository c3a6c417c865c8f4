// The settings snippet with OPENSEARCH_URL (search:, issue 14): real Django loads a project with
// django-opensearch-dsl, whose connection is built from OPENSEARCH_DSL. On AWS every request is signed with the
// role's credentials (SigV4, service "es"); with `touchdown up` the URL of the user's own OpenSearch is all.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFile, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { repoRoot, venvPython } from './support/paths.js';

const run = promisify(execFile);
const SNIPPET = join(repoRoot, 'src', 'django', 'settings', 'touchdown_settings.py');

// The project keeps a connection of its own and a timeout on the default one.
const SETTINGS = `
SECRET_KEY = "project"
INSTALLED_APPS = ["django.contrib.contenttypes", "django_opensearch_dsl"]
OPENSEARCH_DSL = {"default": {"timeout": 30}, "logs": {"hosts": ["http://logs.internal:9200"]}}
from .touchdown_settings import *  # noqa
`;

// Builds the client django-opensearch-dsl uses, signs a request as it would send one, and (locally) asks a server.
const PROBE = `
import json, threading, django
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from django.conf import settings
django.setup()
from opensearchpy.connection.connections import connections
client = connections.get_connection()
kwargs = client.transport.kwargs
out = {
    "hosts": [h.get("host") for h in client.transport.hosts],
    "aliases": sorted(settings.OPENSEARCH_DSL),
    "timeout": settings.OPENSEARCH_DSL["default"].get("timeout"),
    "connection": client.transport.connection_class.__name__,
}
auth = kwargs.get("http_auth")
if auth is not None:
    import requests
    req = requests.Request("GET", settings.OPENSEARCH_URL + "/_search").prepare()
    signed = auth(req)
    out["auth"] = type(auth).__name__
    out["authorization"] = signed.headers["Authorization"]
    out["token"] = signed.headers.get("X-Amz-Security-Token")
else:
    seen = []
    class OpenSearch(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append([self.path, self.headers.get("Authorization")])
            body = json.dumps({"version": {"number": "2.19.0", "distribution": "opensearch"}, "tagline": "The OpenSearch Project"}).encode()
            self.send_response(200)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        def log_message(self, *a):
            pass
    server = ThreadingHTTPServer(("127.0.0.1", int(settings.OPENSEARCH_URL.rsplit(":", 1)[1])), OpenSearch)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    out["info"] = client.info()["version"]["distribution"]
    out["seen"] = seen
    server.shutdown()
print(json.dumps(out))
`;

let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'touchdown-search-'));
  await mkdir(join(dir, 'shop'));
  await writeFile(join(dir, 'shop', '__init__.py'), '');
  await writeFile(join(dir, 'shop', 'settings.py'), SETTINGS);
  await copyFile(SNIPPET, join(dir, 'shop', 'touchdown_settings.py'));
  await writeFile(join(dir, 'probe.py'), PROBE);
});

after(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function probe(env: Record<string, string>) {
  const { stdout } = await run(venvPython, ['probe.py'], {
    cwd: dir,
    env: { PATH: process.env.PATH, DJANGO_SETTINGS_MODULE: 'shop.settings', ...env },
  });
  return JSON.parse(stdout);
}

describe('the settings snippet with OPENSEARCH_URL', () => {
  it('on AWS, signs every request with the task role (SigV4, service es), keeping the project’s options', async () => {
    const host = 'vpc-blog-production-search-4kx2j.us-east-1.es.amazonaws.com';
    const out = await probe({
      OPENSEARCH_URL: `https://${host}`,
      AWS_REGION: 'us-east-1',
      // As ECS gives a task its role's credentials: temporary, with a session token.
      AWS_ACCESS_KEY_ID: 'ASIATASKROLEEXAMPLE1',
      AWS_SECRET_ACCESS_KEY: 'secret',
      AWS_SESSION_TOKEN: 'session-token',
    });
    assert.deepEqual(out.hosts, [host]);
    assert.deepEqual(out.aliases, ['default', 'logs'], 'the project’s own connection stays');
    assert.equal(out.timeout, 30, 'the project’s own option stays');
    assert.equal(out.auth, 'AWSV4SignerAuth');
    assert.equal(out.connection, 'RequestsHttpConnection');
    assert.match(
      out.authorization,
      /^AWS4-HMAC-SHA256 Credential=ASIATASKROLEEXAMPLE1\/\d{8}\/us-east-1\/es\/aws4_request, SignedHeaders=\S+, Signature=[0-9a-f]{64}$/,
    );
    assert.equal(out.token, 'session-token');
  });

  it('with touchdown up, talks to the given OpenSearch unsigned', async () => {
    const { createServer } = await import('node:net');
    const port = await new Promise<number>((resolve) => {
      const s = createServer().listen(0, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
    const out = await probe({ OPENSEARCH_URL: `http://127.0.0.1:${port}` });
    assert.equal(out.auth, undefined);
    assert.equal(out.info, 'opensearch');
    assert.deepEqual(out.seen, [['/', null]]);
  });
});
