// Slow clients: a connection that stops reading is closed with 4100 (over capacity: pusher-js
// backs off before reconnecting) once max_queue bytes wait for it, while every other subscriber
// of the same channel receives every event, in order; pogo_websocket_client_dropped_messages_total
// (and its first-release name, pogo_websocket_messages_dropped_total) counts the events it missed.
//
// The slow client is a real WebSocket whose socket stops reading: the kernel buffers between the
// server and it fill up (a few MB on loopback), then the server's queue for it, then the server
// drops what waits and queues the close. 40 events of 512 KB (20 MB) are well past all three.
// The frames already being written when the queue overflowed go out once the client reads again
// (within write_wait), then the close frame: never a bare TCP reset while the socket allows one.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import { RawClient, connectPusher, subscribe, publish, uniq, withTimeout, deferred } from './support/clients.js';
import { assertSubscribed, assertPusherError } from './support/assert.js';

const EVENTS = 40;
const DATA_BYTES = 512 * 1024;

const server = useServer({
  options: ['max_queue 1MiB', 'max_event_payload 600KB', 'write_wait 30s'],
  site: ['metrics /metrics'],
});

async function droppedMessages() {
  const text = await (await fetch(`${server.url}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  const m = text.match(/^pogo_websocket_client_dropped_messages_total (\S+)$/m);
  assert.ok(m, 'pogo_websocket_client_dropped_messages_total is exported');
  const firstRelease = text.match(/^pogo_websocket_messages_dropped_total (\S+)$/m);
  assert.equal(firstRelease?.[1], m[1], "the first release's name, messages_dropped_total, has the same value");
  return Number(m[1]);
}

test('a client that stops reading is closed with 4100 once max_queue is exceeded, its missed events counted; the others get every event in order', async () => {
  const droppedBefore = await droppedMessages();
  const channel = uniq('firehose-');
  const slow = await RawClient.connect(server);
  assertSubscribed(await slow.subscribe(channel, { auth: '' }), channel);
  const fast = await connectPusher(server);
  const fastChannel = await subscribe(fast, channel);

  const received = [];
  const all = deferred();
  fastChannel.bind('chunk', (data) => {
    received.push(data.n);
    if (received.length === EVENTS) all.resolve();
  });

  slow.ws._socket.pause(); // the kernel buffers, then the server's queue, fill up from here
  const pad = 'x'.repeat(DATA_BYTES);
  for (let n = 0; n < EVENTS; n++) {
    const res = await publish(server, { channel, name: 'chunk', data: { n, pad } });
    assert.equal(res.status, 200, res.body);
  }
  await withTimeout(all.promise, 20_000, `${EVENTS} events on the fast client`);
  assert.deepEqual(received, [...Array(EVENTS).keys()], 'every event, in publish order');

  // The slow client reads what its kernel buffers held, then finds its socket closed.
  slow.ws._socket.resume();
  const closed = await withTimeout(slow.closedPromise, 10_000, 'the slow client to be closed');
  const chunks = slow.frames.filter((f) => f.event === 'chunk').length;
  assert.ok(chunks < EVENTS, `the slow client got all ${EVENTS} events: it was never closed`);
  assert.equal(closed.code, 4100, `closed with 4100 (over capacity): ${JSON.stringify(closed)}`);
  assertPusherError(slow.frames.at(-1), 4100);
  // Every event it did not get was dropped by the server, and counted.
  assert.equal(await droppedMessages() - droppedBefore, EVENTS - chunks, `${chunks} of ${EVENTS} events received`);

  // The server carries on for everyone else.
  const after = await connectPusher(server);
  const afterChannel = await subscribe(after, channel);
  const next = deferred();
  afterChannel.bind('after', next.resolve);
  assert.equal((await publish(server, { channel, name: 'after', data: { ok: true } })).status, 200);
  await withTimeout(next.promise, 3000, 'an event after the slow client was closed');
});
