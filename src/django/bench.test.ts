// Which hosts `touchdown bench` may load: the deployed stack's own addresses, and nothing else.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchUrl, ownAddresses } from './bench.js';

const outputs = {
  url: 'https://xkcd.example.com',
  loadBalancer: 'xkcd-production-web-123.us-east-1.elb.amazonaws.com',
  cdn: 'd111111abcdef8.cloudfront.net',
  cluster: 'xkcd-production-main',
};

describe('bench targets', () => {
  const own = ownAddresses(outputs, 'xkcd.example.com');

  it("takes the stack's URL, domain, load balancer and CloudFront, not its other outputs", () => {
    assert.deepEqual(own, [
      'https://xkcd.example.com',
      'http://xkcd-production-web-123.us-east-1.elb.amazonaws.com',
      'https://d111111abcdef8.cloudfront.net',
    ]);
  });

  it('puts a path on the first address and accepts full URLs on any own host', () => {
    assert.equal(benchUrl(undefined, own, 's').toString(), 'https://xkcd.example.com/');
    assert.equal(benchUrl('/healthz', own, 's').toString(), 'https://xkcd.example.com/healthz');
    const lb = 'http://xkcd-production-web-123.us-east-1.elb.amazonaws.com/?comic=2';
    assert.equal(benchUrl(lb, own, 's').toString(), lb);
    assert.equal(benchUrl('https://XKCD.example.com/a', own, 's').host, 'xkcd.example.com');
  });

  it('refuses any other host, port or a bare word', () => {
    for (const foreign of [
      'https://example.com/',
      'https://xkcd.example.com.evil.net/',
      'https://xkcd.example.com:8443/',
      'http://cluster.xkcd-production-main/',
    ])
      assert.throws(
        () => benchUrl(foreign, own, 'xkcd-production'),
        /loads only the stack's own hosts.*nothing was sent/,
      );
    assert.throws(() => benchUrl('healthz', own, 's'), /give a path starting with \//);
    assert.throws(() => benchUrl('/', [], 'xkcd-production'), /has no address to load yet/);
  });
});
