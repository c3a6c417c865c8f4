// RabbitMQ and memcached on this machine: found where they usually listen, or where the user says, and
// asked who they are (an AMQP or memcached greeting), so a wrong port fails here with one clear message.
import { connect } from 'node:net';
import { ConfigError } from '../core/errors.js';

export const DEFAULT_RABBITMQ_URL = 'amqp://guest:guest@localhost:5672//';
export const DEFAULT_MEMCACHED = 'localhost:11211';

/** Sends a greeting and resolves with the first bytes of the answer. */
function greet(host: string, port: number, hello: Buffer | string): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, timeout: 5_000 });
    socket.once('connect', () => socket.write(hello));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data);
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error('no answer within 5 seconds'));
    });
    socket.once('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ECONNREFUSED' ? new Error('nothing is listening there') : err),
    );
  });
}

function hostPort(text: string, defaultPort: number): { host: string; port: number } {
  const u = new URL(text.includes('://') ? text : `tcp://${text}`);
  return { host: u.hostname.replace(/^\[|\]$/g, '') || 'localhost', port: Number(u.port || defaultPort) };
}

/**
 * The OpenSearch server for `search:` (no OpenSearch can be installed for the user): its URL is required, and is
 * what the app gets as OPENSEARCH_URL. Its own address is not asked (it may need credentials up does not have).
 */
export function checkOpenSearch(url: string | undefined, from: string): string {
  const how =
    'pass --opensearch-url http://localhost:9200 (an OpenSearch you run: docker run -p 9200:9200 -e ' +
    'discovery.type=single-node -e DISABLE_SECURITY_PLUGIN=true opensearchproject/opensearch:2), or set ' +
    'TOUCHDOWN_OPENSEARCH_URL';
  if (!url)
    throw new ConfigError(`touchdown.yml declares search, and touchdown up runs no OpenSearch: ${how}`);
  if (!/^https?:\/\/[^/\s]+/.test(url))
    throw new ConfigError(`${from} ${url}: write it like http://localhost:9200`);
  return url;
}

/** Celery's broker when the manifest asks for RabbitMQ (local.broker: rabbitmq). */
export async function checkRabbitMq(url = DEFAULT_RABBITMQ_URL, from = '--rabbitmq-url'): Promise<string> {
  if (!/^amqps?:\/\//.test(url))
    throw new ConfigError(`${from} ${url}: write it like ${DEFAULT_RABBITMQ_URL}`);
  const { host, port } = hostPort(url, 5672);
  const fix =
    'install and start RabbitMQ (apt install rabbitmq-server, or brew install rabbitmq && brew services start rabbitmq), ' +
    `or pass --rabbitmq-url amqp://USER:PASSWORD@HOST:PORT/VHOST (or set RABBITMQ_URL); or set local.broker: sqs in touchdown.yml`;
  try {
    // AMQP 0-9-1's protocol header; a broker answers with a Connection.Start method frame (type 1).
    const answer = await greet(host, port, Buffer.from('AMQP\x00\x00\x09\x01', 'latin1'));
    if (answer[0] !== 1) throw new Error('what answers there is not an AMQP 0-9-1 broker');
  } catch (err) {
    throw new ConfigError(`no RabbitMQ at ${host}:${port} (${(err as Error).message}): ${fix}`);
  }
  return url;
}

/** The cache when the manifest asks for memcached. */
export async function checkMemcached(address = DEFAULT_MEMCACHED, from = '--memcached'): Promise<string> {
  const { host, port } = hostPort(address, 11211);
  try {
    const answer = await greet(host, port, 'version\r\n');
    if (!answer.toString('latin1').startsWith('VERSION'))
      throw new Error('what answers there is not memcached');
  } catch (err) {
    throw new ConfigError(
      `no memcached at ${host}:${port} (${(err as Error).message}): install and start memcached (apt install memcached, or brew install memcached && brew services start memcached), or pass ${from} HOST:PORT`,
    );
  }
  return `${host}:${port}`;
}
