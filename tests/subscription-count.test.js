// Issue 3 item 8: pusher_internal:subscription_count (per-app opt-in) on subscribe/unsubscribe of
// non-presence channels; at most once every 5 s on channels above 100 subscribers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import { RawClient, connectPusher, subscribe, nextEvent, publish, parseMaybe, uniq } from './support/clients.js';
import { assertSubscribed } from './support/assert.js';

// A test below opens 100+ connections from one address at once: more than the default handshake
// burst (50) allows.
const server = useServer({ options: ['subscription_count on', 'handshake_burst 1000'] });
const off = useServer();

const countOf = (frame) => parseMaybe(frame.data).subscription_count;
const isCount = (channel, n) => (f) =>
  f.event === 'pusher_internal:subscription_count' && f.channel === channel && (n === undefined || countOf(f) === n);

async function flush(srv, ws, channel) {
  await publish(srv, { channel, name: 'sentinel', data: uniq() });
  await ws.nextEvent('sentinel', { channel });
}

test('subscribers receive {"event":"pusher_internal:subscription_count","channel":…,"data":"{\\"subscription_count\\":N}"} as the count changes', async () => {
  const channel = uniq('counted-');
  const a = await RawClient.connect(server);
  assertSubscribed(await a.subscribe(channel, { auth: '' }), channel);
  const first = await a.next(isCount(channel), { what: 'subscription_count' });
  assert.equal(typeof first.data, 'string', 'data is a JSON string');
  assert.deepEqual(JSON.parse(first.data), { subscription_count: 1 });

  const b = await RawClient.connect(server);
  assertSubscribed(await b.subscribe(channel, { auth: '' }), channel);
  await a.next(isCount(channel, 2), { what: 'subscription_count 2 on a' });
  await b.next(isCount(channel, 2), { what: 'subscription_count 2 on b' });

  b.send({ event: 'pusher:unsubscribe', data: { channel } });
  await a.next(isCount(channel, 1), { what: 'subscription_count 1 after unsubscribe' });

  const c = await RawClient.connect(server);
  assertSubscribed(await c.subscribe(channel, { auth: '' }), channel);
  await a.next(isCount(channel, 2), { what: 'subscription_count 2' });
  await c.close();
  await a.next(isCount(channel, 1), { what: 'subscription_count 1 after close' });
});

test('private channels get subscription_count too', async () => {
  const channel = uniq('private-counted-');
  const a = await RawClient.connect(server);
  assertSubscribed(await a.subscribePrivate(channel, server.app), channel);
  await a.next(isCount(channel, 1), { what: 'subscription_count 1' });
});

test('pusher-js emits pusher:subscription_count with the count and exposes channel.subscriptionCount', async () => {
  const name = uniq('counted-js-');
  const one = await connectPusher(server);
  const ch1 = await subscribe(one, name);
  const two = await connectPusher(server);
  const got = nextEvent(ch1, 'pusher:subscription_count', { filter: (d) => d.subscription_count === 2 });
  await subscribe(two, name);
  assert.equal((await got).data.subscription_count, 2);
  assert.equal(ch1.subscriptionCount, 2);
});

test('presence channels never get subscription_count', async () => {
  const channel = uniq('presence-uncounted-');
  const a = await RawClient.connect(server);
  assertSubscribed(await a.subscribePresence(channel, { user_id: 'a', user_info: {} }, server.app), channel);
  const b = await RawClient.connect(server);
  assertSubscribed(await b.subscribePresence(channel, { user_id: 'b', user_info: {} }, server.app), channel);
  await flush(server, a, channel);
  assert.deepEqual(a.received('pusher_internal:subscription_count'), []);
});

test('an app without subscription_count on sends no subscription_count', async () => {
  const channel = uniq('uncounted-');
  const a = await RawClient.connect(off);
  assertSubscribed(await a.subscribe(channel, { auth: '' }), channel);
  const b = await RawClient.connect(off);
  assertSubscribed(await b.subscribe(channel, { auth: '' }), channel);
  await flush(off, a, channel);
  assert.deepEqual(a.received('pusher_internal:subscription_count'), []);
});

test('above 100 subscribers, subscription_count is sent at most once per 5 s', async () => {
  const channel = uniq('crowded-');
  const observer = await RawClient.connect(server);
  assertSubscribed(await observer.subscribe(channel, { auth: '' }), channel);
  const others = [];
  for (let i = 0; i < 100; i++) {
    const ws = await RawClient.connect(server);
    assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
    others.push(ws);
  }
  // 101 subscribers now. Subscribe 5 more in quick succession: within 5 s at most one count.
  await flush(server, observer, channel);
  const mark = observer.frames.length;
  const started = Date.now();
  for (let i = 0; i < 5; i++) {
    const ws = await RawClient.connect(server);
    assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
    others.push(ws);
  }
  await flush(server, observer, channel);
  const elapsed = Date.now() - started;
  const counts = observer.frames.slice(mark).filter(isCount(channel));
  assert.ok(elapsed < 5000, 'the burst took longer than the 5 s window; the test cannot judge throttling');
  assert.ok(counts.length <= 1, `${counts.length} subscription_count frames within ${elapsed} ms above 100 subscribers`);
});
