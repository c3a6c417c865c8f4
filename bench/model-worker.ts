// The AWS model in a thread of its own, so that its work does not share the measured plan's event loop.
import { parentPort, Worker, workerData } from 'node:worker_threads';
import { startAwsModel } from '../test/support/aws-model/proxy.js';

export interface ThreadedModel {
  endpoint: string;
  stop(): Promise<void>;
}

/** Starts the model (upstream, latency in ms, real time) in a worker thread. */
export async function startModelThread(
  upstream: string,
  latencyMs: number,
  /** Each call's x-trace header and when it arrived (ms since the epoch, performance.timeOrigin based). */
  onArrival?: (trace: string, at: number) => void,
): Promise<ThreadedModel> {
  // tsx's loader is registered in the thread too: Node 20 does not carry --import hooks into workers.
  const boot = `import('tsx/esm/api').then((t) => { t.register(); return import(${JSON.stringify(import.meta.url)}); })`;
  const worker = new Worker(boot, { eval: true, workerData: { upstream, latencyMs } });
  const endpoint = await new Promise<string>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  worker.on('message', (m: { trace?: string; at: number }) => {
    if (typeof m === 'object' && m.trace) onArrival?.(m.trace, m.at);
  });
  return {
    endpoint,
    stop: async () => {
      await worker.terminate();
    },
  };
}

if (parentPort && workerData?.upstream) {
  const port = parentPort;
  const model = await startAwsModel({
    upstream: workerData.upstream,
    latencyMs: workerData.latencyMs,
    speedup: 1,
    onCall: (call) => {
      const trace = call.headers['x-trace'];
      if (trace) port.postMessage({ trace, at: performance.timeOrigin + performance.now() });
    },
  });
  parentPort.postMessage(model.endpoint);
}
