// Issue 3 item 6: cache channels keep the last event (TTL) and send it right after
// subscription_succeeded; a miss sends pusher:cache_miss; client events are not cached.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import { RawClient, connectPusher, nextEvent, createPublisher, publish, uniq } from './support/clients.js';
import { assertSubscribed } from './support/assert.js';

const server = useServer({ options: ['client_events on'] });
const shortTtl = useServer({ options: ['cache_ttl 1s'] });

const member = { user_id: 'u-cache', user_info: { name: 'Cache' } };

// Subscribes (signing as the prefix requires) and returns the frames from subscription_succeeded
// up to the pong of a ping sent right after it: exactly what the subscribe produced.
async function subscribeAndCollect(srv, channel) {
  const ws = await RawClient.connect(srv);
  let reply;
  if (channel.startsWith('presence-')) reply = await ws.subscribePresence(channel, member, srv.app);
  else if (channel.startsWith('private-')) reply = await ws.subscribePrivate(channel, srv.app);
  else reply = await ws.subscribe(channel, { auth: '' });
  assertSubscribed(reply, channel);
  const start = ws.frames.indexOf(reply);
  const pong = await ws.ping();
  return { ws, after: ws.frames.slice(start + 1, ws.frames.indexOf(pong)) };
}

function assertCacheMiss(after, channel) {
  assert.equal(after.length, 1, `expected exactly one pusher:cache_miss, got ${JSON.stringify(after)}`);
  assert.equal(after[0].event, 'pusher:cache_miss');
  assert.equal(after[0].channel, channel);
}

for (const prefix of ['cache-', 'private-cache-', 'private-encrypted-cache-', 'presence-cache-']) {
  test(`a new subscriber of a ${prefix} channel gets the last event right after subscription_succeeded`, async () => {
    const channel = uniq(`${prefix}last-`);
    // hand-signed publishes: the SDK would encrypt for private-encrypted-; the server relays any string
    await publish(server, { channel, name: 'first', data: '{"n":1}' });
    await publish(server, { channel, name: 'second', data: '{"n":2}' });
    const { after } = await subscribeAndCollect(server, channel);
    assert.deepEqual(after, [{ event: 'second', channel, data: '{"n":2}' }], 'only the last event is cached');
  });

  test(`a new subscriber of an empty ${prefix} channel gets {"event":"pusher:cache_miss","channel":…}`, async () => {
    const channel = uniq(`${prefix}miss-`);
    const { after } = await subscribeAndCollect(server, channel);
    assertCacheMiss(after, channel);
  });
}

test('pusher-js emits pusher:cache_miss on a cache channel with nothing cached', async () => {
  const client = await connectPusher(server);
  const ch = client.subscribe(uniq('cache-js-miss-'));
  await nextEvent(ch, 'pusher:cache_miss');
});

test('pusher-js receives the cached event of a cache channel after subscribing', async () => {
  const name = uniq('cache-js-hit-');
  await createPublisher(server).trigger(name, 'price', { eur: 10 });
  const client = await connectPusher(server);
  const ch = client.subscribe(name);
  assert.deepEqual((await nextEvent(ch, 'price')).data, { eur: 10 });
});

test('non-cache channels send neither a cached event nor pusher:cache_miss', async () => {
  const channel = uniq('plain-');
  await createPublisher(server).trigger(channel, 'old', 'x');
  const { after } = await subscribeAndCollect(server, channel);
  assert.deepEqual(after, []);
});

test('client events are not cached', async () => {
  const channel = uniq('private-cache-whisper-');
  const a = await subscribeAndCollect(server, channel);
  const b = await subscribeAndCollect(server, channel);
  a.ws.send({ event: 'client-typing', channel, data: { who: 'a' } });
  await b.ws.nextEvent('client-typing', { channel });
  const c = await subscribeAndCollect(server, channel);
  assertCacheMiss(c.after, channel);
});

test('publishing to a cache channel with socket_id exclusion still updates the cache', async () => {
  const channel = uniq('cache-excl-');
  const a = await subscribeAndCollect(server, channel);
  await createPublisher(server).trigger(channel, 'excluded', 'x', { socket_id: a.ws.socketId });
  const { after } = await subscribeAndCollect(server, channel);
  assert.deepEqual(after, [{ event: 'excluded', channel, data: 'x' }]);
});

test('a cached event expires after cache_ttl and new subscribers then get pusher:cache_miss', async () => {
  const channel = uniq('cache-ttl-');
  const published = Date.now();
  await createPublisher(shortTtl).trigger(channel, 'short-lived', 'x');
  const first = await subscribeAndCollect(shortTtl, channel);
  if (Date.now() - published < 900) {
    assert.deepEqual(first.after, [{ event: 'short-lived', channel, data: 'x' }], 'cached within the TTL');
  }
  // poll with fresh subscribers until the cache misses (bounded)
  const deadline = published + 4000;
  for (;;) {
    const { after } = await subscribeAndCollect(shortTtl, channel);
    if (after.length === 1 && after[0].event === 'pusher:cache_miss') {
      assert.ok(Date.now() - published >= 1000 - 50, 'the cache expired before cache_ttl');
      break;
    }
    assert.deepEqual(after, [{ event: 'short-lived', channel, data: 'x' }]);
    assert.ok(Date.now() < deadline, 'the cached event outlived cache_ttl 1s by more than 3 s');
    await new Promise((r) => setTimeout(r, 100)); // poll interval
  }
});
