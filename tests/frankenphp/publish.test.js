// Issue 5: PHP served by bin/frankenphp publishes with pogo_websocket_publish and
// pogo_websocket_broadcast_multi; pusher-js clients receive the events; every return code
// that needs no special server setup is reached (configuration-dependent codes: limits.test.js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useFrankenPHP } from './support/frankenphp.js';
import { connectPusher, subscribe, nextEvent, RawClient, uniq } from '../support/clients.js';

const server = useFrankenPHP();

// The return codes of the PHP functions (host-go/frankenphp/internal/bridge).
const OK = 0;
const HUB_MISSING = 1;
const CHANNEL_INVALID = 2;
const EVENT_INVALID = 3;
const PAYLOAD_TOO_LARGE = 4;
const PAYLOAD_INVALID = 5;
const CHANNELS_INVALID = 7;
const SOCKET_ID_INVALID = 10;

async function codes(calls) {
  const res = await server.php('publish.php', calls);
  assert.equal(res.status, 200, `publish.php answered ${res.status}: ${res.body}\n${server.output()}`);
  assert.ok(Array.isArray(res.json), `publish.php answered ${res.body}`);
  return res.json;
}

test('the PHP runtime has the pogo_websocket functions and their return-code constants', async () => {
  const res = await server.php('ready.php');
  assert.equal(res.body, 'ready');
  const constants = await server.php('constants.php');
  assert.deepEqual(constants.json, {
    POGO_WEBSOCKET_OK: 0,
    POGO_WEBSOCKET_HUB_MISSING: 1,
    POGO_WEBSOCKET_CHANNEL_INVALID: 2,
    POGO_WEBSOCKET_EVENT_INVALID: 3,
    POGO_WEBSOCKET_PAYLOAD_TOO_LARGE: 4,
    POGO_WEBSOCKET_PAYLOAD_INVALID: 5,
    POGO_WEBSOCKET_BROKER_PUBLISH_FAILED: 6,
    POGO_WEBSOCKET_CHANNELS_INVALID: 7,
    POGO_WEBSOCKET_BROKER_QUEUE_FULL: 8,
    POGO_WEBSOCKET_SHARD_QUEUE_FULL: 9,
    POGO_WEBSOCKET_SOCKET_ID_INVALID: 10,
  });
});

test('a PHP page publishes to one channel and to several; pusher-js clients receive both events', async () => {
  const a = await connectPusher(server);
  const b = await connectPusher(server);
  const one = uniq('orders-');
  const two = uniq('orders-');
  const three = uniq('orders-');
  const chOne = await subscribe(a, one);
  const chTwo = await subscribe(a, two);
  const chThree = await subscribe(b, three);
  const got = [nextEvent(chOne, 'order-shipped'), nextEvent(chTwo, 'order-shipped'), nextEvent(chThree, 'order-shipped')];

  const res = await fetch(`${server.url}/order-shipped.php?id=42&channel=${one}&channels=${two},${three}`);
  const body = await res.json();
  assert.deepEqual(body, { publish: OK, broadcast_multi: OK });

  for (const { data } of await Promise.all(got)) {
    assert.deepEqual(data, { id: 42, items: ['book', 'pen'] });
  }
});

test('the delivered frame carries the PHP data string unchanged', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('raw-');
  await ws.subscribe(channel, { auth: '' });
  const payload = JSON.stringify({ text: 'quote " backslash \\ unicode é ☃ 😀', n: 1.5, nil: null });
  assert.deepEqual(await codes([['publish', server.app.id, channel, 'App\\Events\\Thing', payload]]), [OK]);
  const frame = await ws.nextEvent('App\\Events\\Thing');
  assert.deepEqual(frame, { event: 'App\\Events\\Thing', channel, data: payload });
});

test('concurrent PHP requests publish; every accepted event arrives exactly once, in order per request', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('load-');
  await ws.subscribe(channel, { auth: '' });
  const requests = 8;
  const perRequest = 250;
  const results = await Promise.all(
    Array.from({ length: requests }, (_, r) =>
      codes(Array.from({ length: perRequest }, (_, i) => ['publish', server.app.id, channel, 'n', JSON.stringify({ r, i })])),
    ),
  );
  const accepted = results.flat().filter((c) => c === OK).length;
  assert.equal(accepted, requests * perRequest, `codes: ${JSON.stringify([...new Set(results.flat())])}`);

  const deadline = Date.now() + 10_000;
  while (ws.frames.filter((f) => f.event === 'n').length < accepted && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 20));
  }
  const got = ws.frames.filter((f) => f.event === 'n').map((f) => JSON.parse(f.data));
  assert.equal(got.length, accepted);
  for (let r = 0; r < requests; r++) {
    const order = got.filter((d) => d.r === r).map((d) => d.i);
    assert.deepEqual(order, Array.from({ length: perRequest }, (_, i) => i), `request ${r} arrived out of order or incomplete`);
  }
});

test('the fifth argument leaves out the connection with that socket id, in both functions', async () => {
  const sender = await RawClient.connect(server);
  const other = await RawClient.connect(server);
  const one = uniq('others-');
  const two = uniq('others-');
  for (const c of [sender, other]) {
    await c.subscribe(one, { auth: '' });
    await c.subscribe(two, { auth: '' });
  }
  const list = JSON.stringify([one, two]);
  assert.deepEqual(
    await codes([
      ['publish', server.app.id, one, 'first', '{}', 1, sender.socketId],
      ['multi', server.app.id, list, 'first', '{}', 1, sender.socketId],
      // null and "" leave out nobody
      ['publish', server.app.id, one, 'second', '{}', 1, null],
      ['multi', server.app.id, list, 'second', '{}', 1, ''],
    ]),
    [OK, OK, OK, OK],
  );
  for (const channel of [one, two]) {
    assert.equal((await other.nextEvent('first', { channel })).channel, channel);
    assert.equal((await other.nextEvent('second', { channel })).channel, channel);
    // One channel's events arrive in order: the sender's first event on it is the second one.
    const got = await sender.next((f) => f.channel === channel && (f.event === 'first' || f.event === 'second'), { what: `an event on ${channel}` });
    assert.equal(got.event, 'second');
  }
});

test('code 10: a fifth argument that is not a socket id publishes nothing', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('others-');
  await ws.subscribe(channel, { auth: '' });
  const bad = ['12345', '1.2.3', 'a.b', '1.', `${'1'.repeat(64)}.1`];
  const calls = bad.flatMap((id) => [
    ['publish', server.app.id, channel, 'refused', '{}', 1, id],
    ['multi', server.app.id, JSON.stringify([channel]), 'refused', '{}', 1, id],
  ]);
  assert.deepEqual(await codes([...calls, ['publish', server.app.id, channel, 'accepted', '{}']]), [
    ...calls.map(() => SOCKET_ID_INVALID),
    OK,
  ]);
  const first = await ws.next((f) => f.channel === channel && f.event !== 'pusher_internal:subscription_succeeded', { what: 'an event' });
  assert.equal(first.event, 'accepted');
});

test('codes 1 to 5 and 7: hub missing, channel, event, payload size, payload JSON, channel list', async () => {
  const app = server.app.id;
  const long = 'x'.repeat(201);
  const ok = '{"a":1}';
  const big = JSON.stringify('x'.repeat(10 * 1024));
  assert.deepEqual(
    await codes([
      ['publish', 'no-such-app', 'news', 'e', ok],
      ['multi', 'no-such-app', '["news"]', 'e', ok],
      ['publish', app, long, 'e', ok],
      ['publish', app, 'bad channel', 'e', ok],
      ['multi', app, JSON.stringify(['news', long]), 'e', ok],
      ['publish', app, 'news', long, ok],
      ['multi', app, '["news"]', '', ok],
      ['publish', app, 'news', 'e', big],
      ['multi', app, '["news"]', 'e', big],
      ['publish', app, 'news', 'e', '{not json'],
      ['multi', app, '["news"]', 'e', ''],
      ['multi', app, 'news', 'e', ok],
      ['multi', app, '[]', 'e', ok],
      ['multi', app, '[1,2]', 'e', ok],
      ['publish', app, 'x'.repeat(200), 'y'.repeat(200), ok],
    ]),
    [
      HUB_MISSING,
      HUB_MISSING,
      CHANNEL_INVALID,
      CHANNEL_INVALID,
      CHANNEL_INVALID,
      EVENT_INVALID,
      EVENT_INVALID,
      PAYLOAD_TOO_LARGE,
      PAYLOAD_TOO_LARGE,
      PAYLOAD_INVALID,
      PAYLOAD_INVALID,
      CHANNELS_INVALID,
      CHANNELS_INVALID,
      CHANNELS_INVALID,
      OK,
    ],
  );
});

test('a refused publish delivers nothing', async () => {
  const client = await connectPusher(server);
  const name = uniq('quiet-');
  const channel = await subscribe(client, name);
  const seen = [];
  channel.bind('e', (data) => seen.push(data));
  assert.deepEqual(await codes([['publish', server.app.id, name, 'e', '{nope']]), [PAYLOAD_INVALID]);
  const marker = nextEvent(channel, 'marker');
  assert.deepEqual(await codes([['publish', server.app.id, name, 'marker', '{}']]), [OK]);
  await marker;
  assert.deepEqual(seen, []);
});

test('a PHP argument of the wrong type raises a TypeError instead of publishing', async () => {
  const res = await server.php('publish.php', [['publish', server.app.id, ['not', 'a', 'string'], 'e', '{}']]);
  assert.match(res.body, /Uncaught TypeError: pogo_websocket_publish\(\): Argument #2 \(\$channel\) must be of type string, array given/);
});
