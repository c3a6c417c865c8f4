import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { describe, it } from 'node:test';
import pc from 'picocolors';
import type { UpEvent } from '../../local/events.js';
import { liveLocalView, plainLocalView } from './local.js';

const c = pc.createColors(false);

function screen() {
  const out = new PassThrough() as PassThrough & { isTTY: boolean; columns: number; rows: number };
  Object.assign(out, { isTTY: true, columns: 200, rows: 50 });
  let text = '';
  out.on('data', (d) => (text += d));
  return { out: out as unknown as NodeJS.WriteStream, text: () => text };
}

// What moto's server writes while up provisions: one line per request, 4xx and 5xx included, and its banner.
const ACCESS_LOG = [
  '127.0.0.1 - - [06/Dec/2026 21:50:01] "PUT /xkcd-media HTTP/1.1" 200 -',
  '127.0.0.1 - - [06/Dec/2026 21:50:01] "HEAD /xkcd-static HTTP/1.1" 404 -',
  '127.0.0.1 - - [06/Dec/2026 21:50:02] "POST / HTTP/1.1" 400 -',
  '127.0.0.1 - - [06/Dec/2026 21:50:02] "POST / HTTP/1.1" 500 -',
  ' * Running on http://127.0.0.1:5000',
];
const events = (): UpEvent[] => [
  ...ACCESS_LOG.map((line) => ({ type: 'local.log' as const, name: 'local-aws', line })),
  { type: 'local.log', name: 'web-1', line: 'Booting worker with pid: 42' },
  {
    type: 'local.ready',
    url: 'http://localhost:8000',
    stack: 'xkcd-local',
    localAws: 'http://localhost:5000',
  },
];

describe("touchdown up's view", () => {
  for (const [name, make] of [
    ['live', (out: NodeJS.WriteStream) => liveLocalView(out, c)],
    ['plain', (out: NodeJS.WriteStream) => plainLocalView(out, c)],
  ] as const) {
    it(`${name}: keeps the local AWS's access log out and says where it is; the app's own lines stay`, () => {
      const s = screen();
      const view = make(s.out);
      for (const e of events()) view.handle(e);
      view.stop();
      for (const line of ACCESS_LOG) assert.ok(!s.text().includes(line.trim()), `shown: ${line}`);
      assert.match(s.text(), /web-1 \| Booting worker with pid: 42/);
      assert.match(s.text(), /its log: touchdown logs --local --process local-aws/);
    });
  }
});
