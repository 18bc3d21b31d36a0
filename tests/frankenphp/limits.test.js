// Issue 5: codes that follow the server's configuration. With a tiny engine queue, a burst
// of publishes from one PHP request is partly refused with code 9 (shard queue full)
// instead of blocking the PHP thread, and accepted publishes are still delivered; code 4
// follows the app's max_event_payload. With engine shards, each shard's shard_queue_size events
// bound its queue the same way.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startFrankenPHP } from './support/frankenphp.js';
import { connectPusher, subscribe, nextEvent, closeAllClients, uniq } from '../support/clients.js';

const OK = 0;
const SHARD_QUEUE_FULL = 9;

test('a burst of publishes into a tiny engine queue returns 9 for what does not fit, 0 for the rest', async () => {
  const server = await startFrankenPHP({ options: ['queue_limit 64'] });
  try {
    const client = await connectPusher(server);
    const name = uniq('burst-');
    const channel = await subscribe(client, name);
    const first = nextEvent(channel, 'tick');

    const data = JSON.stringify({ pad: 'x'.repeat(100) });
    const res = await server.php('publish.php', [['publish', server.app.id, name, 'tick', data, 2000]]);
    assert.equal(res.status, 200, res.body);
    const codes = res.json;
    assert.equal(codes.length, 2000);
    assert.equal(codes[0], OK, 'the first publish into an empty queue is accepted');
    assert.ok(codes.includes(SHARD_QUEUE_FULL), `no publish was refused: ${JSON.stringify(codes.slice(0, 20))}…`);
    assert.deepEqual([...new Set(codes)].sort(), [OK, SHARD_QUEUE_FULL]);

    const { data: got } = await first;
    assert.deepEqual(got, JSON.parse(data));
  } finally {
    await closeAllClients();
    await server.stop();
  }
});

test('with num_shards 4 and shard_queue_size 1, a burst of publishes returns 9 for what a full shard queue cannot take, and every 0 is delivered once', async () => {
  const server = await startFrankenPHP({ options: ['num_shards 4', 'shard_queue_size 1'] });
  try {
    const client = await connectPusher(server);
    const name = uniq('sharded-');
    const channel = await subscribe(client, name);
    let delivered = 0;
    channel.bind('tick', () => delivered++);

    const res = await server.php('publish.php', [['publish', server.app.id, name, 'tick', '{}', 2000]]);
    assert.equal(res.status, 200, res.body);
    const codes = res.json;
    assert.equal(codes.length, 2000);
    assert.ok(codes.includes(SHARD_QUEUE_FULL), `no publish was refused: ${JSON.stringify(codes.slice(0, 20))}…`);
    assert.deepEqual([...new Set(codes)].sort(), [OK, SHARD_QUEUE_FULL]);
    const accepted = codes.filter((c) => c === OK).length;

    // A marker published after the burst: once it is in, every accepted tick is too.
    const marker = nextEvent(channel, 'marker', { timeout: 10_000 });
    assert.deepEqual((await server.php('publish.php', [['publish', server.app.id, name, 'marker', '{}']])).json, [OK]);
    await marker;
    assert.equal(delivered, accepted);
  } finally {
    await closeAllClients();
    await server.stop();
  }
});

test(
  "code 4 follows the app's max_event_payload",
  async () => {
    const server = await startFrankenPHP({ options: ['max_event_payload 100'] });
    try {
      const app = server.app.id;
      const fits = JSON.stringify('x'.repeat(98)); // 100 bytes
      const over = JSON.stringify('x'.repeat(99)); // 101 bytes
      const res = await server.php('publish.php', [
        ['publish', app, 'news', 'e', fits],
        ['publish', app, 'news', 'e', over],
        ['multi', app, '["news"]', 'e', over],
      ]);
      assert.deepEqual(res.json, [OK, 4, 4]);
    } finally {
      await server.stop();
    }
  },
);
