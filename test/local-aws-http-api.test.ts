// The local AWS's HTTP APIs (scripts/local_aws/http_apis.py), made with boto3 alone and a handler that echoes
// what it was sent: routes, the Lambda proxy integration's payload 2.0 event and how its answer is read back,
// named stages, custom domains through their mappings, and API Gateway's own answers (404, 500) where AWS gives them.
// https://docs.aws.amazon.com/apigateway/latest/developerguide/http-api-develop-integrations-lambda.html
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { request } from 'node:http';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { httpApiUrl } from './support/app-http.js';
import { useLocalAws } from './support/harness.js';
import { venvPython } from './support/paths.js';

const ACCOUNT = '123456789012';

const HANDLER = `
import base64, json
def handler(event, context):
    path = event["rawPath"]
    if path.endswith("/boom"):
        raise ValueError("boom")
    if path.endswith("/plain"):
        return {"plain": True}
    if path.endswith("/png"):
        return {"statusCode": 201, "headers": {"content-type": "image/png"}, "isBase64Encoded": True,
                "body": base64.b64encode(b"\\x89PNG\\x00\\xff").decode()}
    return {"statusCode": 200, "headers": {"content-type": "application/json", "x-answer": "yes"},
            "cookies": ["a=1; Path=/; Secure", "b=2"], "body": json.dumps(event)}
`;

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request as a client sends it: the local port's Host, cookies and a body as given. */
function send(
  url: string,
  method = 'GET',
  headers: Record<string, string> = {},
  body?: Buffer,
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = (a: Answer) => JSON.parse(a.body.toString());

describe("the local AWS's HTTP APIs", () => {
  const t = useLocalAws({ apps: { images: {} } });

  /** The echo function, an HTTP API whose routes all reach it, and API Gateway's permission to invoke it. */
  async function echoApi(permitted = true) {
    const { stdout } = await promisify(execFile)(venvPython, [
      '-c',
      'import base64, io, sys, zipfile\nb = io.BytesIO()\nz = zipfile.ZipFile(b, "w")\nz.writestr("echo.py", sys.argv[1])\nz.close()\nprint(base64.b64encode(b.getvalue()).decode())',
      HANDLER,
    ]);
    const { Role } = await t.boto.call('iam', 'CreateRole', {
      RoleName: 'echo',
      AssumeRolePolicyDocument: JSON.stringify({
        Version: '2012-10-17',
        Statement: [
          { Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' },
        ],
      }),
    });
    const { FunctionArn } = await (await t.aws.clients().lambda()).createFunction({
      FunctionName: 'echo',
      Runtime: 'python3.12',
      // Lambda's 3 s default would time out a cold start on a loaded machine.
      Timeout: 60,
      Handler: 'echo.handler',
      Role: Role.Arn,
      Code: { ZipFile: Buffer.from(stdout.trim(), 'base64') },
    });
    const api = await t.boto.call('apigatewayv2', 'CreateApi', { Name: 'echo', ProtocolType: 'HTTP' });
    const { IntegrationId } = await t.boto.call('apigatewayv2', 'CreateIntegration', {
      ApiId: api.ApiId,
      IntegrationType: 'AWS_PROXY',
      IntegrationUri: FunctionArn,
      PayloadFormatVersion: '2.0',
    });
    for (const RouteKey of ['$default', 'GET /items/{id}', 'ANY /files/{proxy+}']) {
      await t.boto.call('apigatewayv2', 'CreateRoute', {
        ApiId: api.ApiId,
        RouteKey,
        Target: `integrations/${IntegrationId}`,
      });
    }
    for (const StageName of ['$default', 'v1']) {
      await t.boto.call('apigatewayv2', 'CreateStage', { ApiId: api.ApiId, StageName, AutoDeploy: true });
    }
    if (permitted) {
      await t.boto.call('lambda', 'AddPermission', {
        FunctionName: 'echo',
        StatementId: 'api',
        Action: 'lambda:InvokeFunction',
        Principal: 'apigateway.amazonaws.com',
        SourceArn: `arn:aws:execute-api:us-east-1:${ACCOUNT}:${api.ApiId}/*`,
      });
    }
    return { apiId: api.ApiId as string, url: await httpApiUrl(t.aws, { apiId: api.ApiId }) };
  }

  it('sends the function the payload 2.0 event and reads its answer back as API Gateway does', async () => {
    const { apiId, url } = await echoApi();
    const host = `${apiId}.execute-api.us-east-1.amazonaws.com`;
    const answer = await send(`${url}/items/42?tag=a&tag=b&q=`, 'GET', {
      Cookie: 'session=abc; theme=dark',
      'X-Custom': 'one',
      'User-Agent': 'touchdown-test',
    });
    assert.equal(answer.status, 200, answer.body.toString());
    assert.equal(answer.headers['x-answer'], 'yes');
    assert.deepEqual(
      answer.headers['set-cookie'],
      ['a=1; Path=/; Secure', 'b=2'],
      'each cookie a Set-Cookie',
    );
    const event = json(answer);
    assert.equal(event.version, '2.0');
    assert.equal(event.routeKey, 'GET /items/{id}');
    assert.equal(event.rawPath, '/items/42');
    assert.equal(event.rawQueryString, 'tag=a&tag=b&q=');
    assert.deepEqual(
      event.queryStringParameters,
      { tag: 'a,b', q: '' },
      'repeated parameters joined by commas',
    );
    assert.deepEqual(event.pathParameters, { id: '42' });
    assert.deepEqual(event.cookies, ['session=abc', 'theme=dark']);
    assert.equal(event.headers.cookie, undefined, 'cookies travel in cookies, not in headers');
    assert.equal(event.headers.host, host, "the API's host, as on AWS");
    assert.equal(event.headers['x-custom'], 'one', 'header names in lower case');
    assert.equal(event.headers['x-forwarded-proto'], 'https');
    assert.equal(event.isBase64Encoded, false);
    assert.equal(event.body, undefined);
    assert.equal(event.requestContext.apiId, apiId);
    assert.equal(event.requestContext.accountId, ACCOUNT);
    assert.equal(event.requestContext.domainName, host);
    assert.equal(event.requestContext.stage, '$default');
    assert.equal(event.requestContext.routeKey, 'GET /items/{id}');
    assert.deepEqual(
      [event.requestContext.http.method, event.requestContext.http.path, event.requestContext.http.userAgent],
      ['GET', '/items/42', 'touchdown-test'],
    );
    assert.match(event.requestContext.http.sourceIp, /^127\.0\.0\.1$/);
    assert.ok(Number.isInteger(event.requestContext.timeEpoch));

    // A form's body arrives base64-encoded; JSON as text.
    const form = json(
      await send(
        `${url}/files/a/b.txt`,
        'POST',
        { 'Content-Type': 'application/x-www-form-urlencoded' },
        Buffer.from('x=1&y=2'),
      ),
    );
    assert.equal(form.routeKey, 'ANY /files/{proxy+}');
    assert.deepEqual(form.pathParameters, { proxy: 'a/b.txt' });
    assert.equal(form.isBase64Encoded, true);
    assert.equal(Buffer.from(form.body, 'base64').toString(), 'x=1&y=2');
    const text = json(
      await send(`${url}/other`, 'PUT', { 'Content-Type': 'application/json' }, Buffer.from('{"a":1}')),
    );
    assert.deepEqual([text.routeKey, text.isBase64Encoded, text.body], ['$default', false, '{"a":1}']);

    // A base64 answer is sent as its bytes; an answer without statusCode is the body, as JSON, with 200.
    const png = await send(`${url}/png`);
    assert.equal(png.status, 201);
    assert.equal(png.headers['content-type'], 'image/png');
    assert.deepEqual([...png.body], [0x89, 0x50, 0x4e, 0x47, 0x00, 0xff]);
    const plain = await send(`${url}/plain`);
    assert.equal(plain.status, 200);
    assert.equal(plain.headers['content-type'], 'application/json');
    assert.deepEqual(json(plain), { plain: true });

    // A named stage answers under its name; rawPath keeps it, the route does not see it.
    const staged = json(await send(`${url}/v1/items/7`));
    assert.deepEqual(
      [staged.requestContext.stage, staged.routeKey, staged.rawPath, staged.pathParameters],
      ['v1', 'GET /items/{id}', '/v1/items/7', { id: '7' }],
    );

    // The function's error is API Gateway's 500, its own words.
    const boom = await send(`${url}/boom`);
    assert.equal(boom.status, 500);
    assert.deepEqual(json(boom), { message: 'Internal Server Error' });
  });

  it('answers 404 without a route, 500 without the permission to invoke, and custom domains by their mappings', async () => {
    const { apiId, url } = await echoApi(false);
    const refused = await send(`${url}/items/1`);
    assert.equal(refused.status, 500, 'API Gateway may not invoke a function that does not allow it');
    assert.deepEqual(json(refused), { message: 'Internal Server Error' });

    await t.boto.call('lambda', 'AddPermission', {
      FunctionName: 'echo',
      StatementId: 'api',
      Action: 'lambda:InvokeFunction',
      Principal: 'apigateway.amazonaws.com',
      SourceArn: `arn:aws:execute-api:us-east-1:${ACCOUNT}:${apiId}/*`,
    });
    assert.equal((await send(`${url}/items/1`)).status, 200);
    const { RouteId } = (await t.boto.call('apigatewayv2', 'GetRoutes', { ApiId: apiId })).Items.find(
      (r: { RouteKey: string }) => r.RouteKey === '$default',
    );
    await t.boto.call('apigatewayv2', 'DeleteRoute', { ApiId: apiId, RouteId });
    const missing = await send(`${url}/nowhere`);
    assert.equal(missing.status, 404);
    assert.deepEqual(json(missing), { message: 'Not Found' });

    // A custom domain: the stage at /api, its host name in the event, the mapping's key left out of rawPath.
    await t.boto.call('apigatewayv2', 'CreateDomainName', {
      DomainName: 'echo.example.com',
      DomainNameConfigurations: [
        { CertificateArn: `arn:aws:acm:us-east-1:${ACCOUNT}:certificate/abc`, EndpointType: 'REGIONAL' },
      ],
    });
    await t.boto.call('apigatewayv2', 'CreateApiMapping', {
      DomainName: 'echo.example.com',
      ApiId: apiId,
      Stage: 'v1',
      ApiMappingKey: 'api',
    });
    const domain = await httpApiUrl(t.aws, { domainName: 'echo.example.com' });
    const mapped = json(await send(`${domain}/api/items/9`));
    assert.deepEqual(
      [mapped.headers.host, mapped.requestContext.stage, mapped.rawPath, mapped.pathParameters],
      ['echo.example.com', 'v1', '/items/9', { id: '9' }],
    );
    assert.equal((await send(`${domain}/elsewhere/items/9`)).status, 404, 'no mapping for /elsewhere');
  });
});
