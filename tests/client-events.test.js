// Issue 3 item 3: client events (client-*): private and presence channels only, sender must be
// subscribed, never echoed, user_id on presence, 10/s per connection (4301), per-app switch.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  RawClient,
  connectPusher,
  subscribe,
  nextEvent,
  publish,
  parseMaybe,
  privateAuth,
  uniq,
} from './support/clients.js';
import { assertPusherError, assertSubscribed } from './support/assert.js';

const server = useServer({ options: ['client_events on'] });
const disabled = useServer({ options: ['client_events off'] });

const alice = { user_id: 'u-alice', user_info: { name: 'Alice' } };
const bob = { user_id: 'u-bob', user_info: { name: 'Bob' } };

async function flush(srv, ws, channel) {
  await publish(srv, { channel, name: 'sentinel', data: uniq() });
  await ws.nextEvent('sentinel', { channel });
}

async function privatePair(srv, prefix = 'private-chat-') {
  const channel = uniq(prefix);
  const a = await RawClient.connect(srv);
  assertSubscribed(await a.subscribePrivate(channel, srv.app), channel);
  const b = await RawClient.connect(srv);
  assertSubscribed(await b.subscribePrivate(channel, srv.app), channel);
  return { channel, a, b };
}

test('a client event on a private channel reaches the other subscribers with its data unchanged and is not echoed to the sender', async () => {
  const { channel, a, b } = await privatePair(server);
  const c = await RawClient.connect(server);
  assertSubscribed(await c.subscribePrivate(channel, server.app), channel);
  a.send({ event: 'client-typing', channel, data: { id: 123, name: 'Joe Dixon' } });
  for (const peer of [b, c]) {
    const frame = await peer.nextEvent('client-typing', { channel });
    assert.equal(frame.channel, channel);
    assert.deepEqual(parseMaybe(frame.data), { id: 123, name: 'Joe Dixon' });
    assert.equal(frame.user_id, undefined, 'no user_id on private channels');
  }
  await flush(server, a, channel);
  assert.deepEqual(a.received('client-typing'), [], 'client events must not be echoed to the sender');
  assert.deepEqual(a.received('pusher:error'), []);
});

test('pusher-js trigger("client-…") on a private channel is delivered to the other pusher-js client', async () => {
  const name = uniq('private-js-');
  const one = await connectPusher(server);
  const two = await connectPusher(server);
  const ch1 = await subscribe(one, name);
  const ch2 = await subscribe(two, name);
  const got = nextEvent(ch2, 'client-msg');
  assert.equal(ch1.trigger('client-msg', { text: 'hello' }), true);
  assert.deepEqual((await got).data, { text: 'hello' });
});

test('a client event on a presence channel carries the sender user_id (pusher-js metadata.user_id)', async () => {
  const name = uniq('presence-chat-');
  const one = await connectPusher(server, { presence: alice });
  const two = await connectPusher(server, { presence: bob });
  const ch1 = await subscribe(one, name);
  const ch2 = await subscribe(two, name);
  const got = nextEvent(ch2, 'client-wave');
  ch1.trigger('client-wave', { hi: true });
  const { data, metadata } = await got;
  assert.deepEqual(data, { hi: true });
  assert.equal(String(metadata.user_id), 'u-alice');
  // and on the wire
  const frame = two.received.find((m) => m.event === 'client-wave');
  assert.equal(String(frame.user_id), 'u-alice');
});

test('a client event on a public channel is refused with pusher:error and not delivered', async () => {
  const channel = uniq('public-chat-');
  const a = await RawClient.connect(server);
  assertSubscribed(await a.subscribe(channel, { auth: '' }), channel);
  const b = await RawClient.connect(server);
  assertSubscribed(await b.subscribe(channel, { auth: '' }), channel);
  a.send({ event: 'client-nope', channel, data: {} });
  assertPusherError(await a.nextEvent('pusher:error'));
  await flush(server, b, channel);
  assert.deepEqual(b.received('client-nope'), []);
  await a.ping();
});

test('a client event on a private-encrypted- channel is refused with pusher:error and not delivered', async () => {
  const { channel, a, b } = await privatePair(server, 'private-encrypted-chat-');
  a.send({ event: 'client-nope', channel, data: { ciphertext: 'x', nonce: 'y' } });
  assertPusherError(await a.nextEvent('pusher:error'));
  await flush(server, b, channel);
  assert.deepEqual(b.received('client-nope'), []);
});

test('a client event from a connection not subscribed to the channel is refused and not delivered', async () => {
  const channel = uniq('private-outsider-');
  const member = await RawClient.connect(server);
  assertSubscribed(await member.subscribePrivate(channel, server.app), channel);
  const outsider = await RawClient.connect(server);
  outsider.send({ event: 'client-intrude', channel, data: {} });
  assertPusherError(await outsider.nextEvent('pusher:error'));
  await flush(server, member, channel);
  assert.deepEqual(member.received('client-intrude'), []);
});

test('a client event whose subscription was refused (forged auth) is not delivered', async () => {
  const channel = uniq('private-refused-');
  const member = await RawClient.connect(server);
  assertSubscribed(await member.subscribePrivate(channel, server.app), channel);
  const intruder = await RawClient.connect(server);
  const reply = await intruder.subscribe(channel, privateAuth({ ...server.app, secret: 'x' }, intruder.socketId, channel));
  assert.equal(reply.event, 'pusher:subscription_error');
  intruder.send({ event: 'client-intrude', channel, data: {} });
  assertPusherError(await intruder.nextEvent('pusher:error'));
  await flush(server, member, channel);
  assert.deepEqual(member.received('client-intrude'), []);
});

test('more than 10 client events per second from one connection are answered with pusher:error 4301 and the excess is dropped', async () => {
  const { channel, a, b } = await privatePair(server, 'private-flood-');
  const sent = 30;
  for (let i = 0; i < sent; i++) a.send({ event: 'client-flood', channel, data: { i } });
  const err = await a.next((f) => f.event === 'pusher:error', { what: 'pusher:error 4301' });
  assertPusherError(err, 4301);
  await flush(server, b, channel);
  const got = b.received('client-flood').length;
  assert.ok(got >= 1, 'the first client events within the limit are delivered');
  // a token bucket of 10/s may refill a little while 30 frames arrive; far fewer than 30 get through
  assert.ok(got <= 15, `${got} of ${sent} client events were delivered despite the 10/s limit`);
});

test('client events are refused with pusher:error when the app has them turned off', async () => {
  const { channel, a, b } = await privatePair(disabled);
  a.send({ event: 'client-off', channel, data: {} });
  assertPusherError(await a.nextEvent('pusher:error'));
  await flush(disabled, b, channel);
  assert.deepEqual(b.received('client-off'), []);
});

test('a client event name longer than 200 characters is refused and not delivered', async () => {
  const { channel, a, b } = await privatePair(server, 'private-longname-');
  const name = 'client-' + 'x'.repeat(194); // 201 characters
  a.send({ event: name, channel, data: {} });
  assertPusherError(await a.nextEvent('pusher:error'));
  await flush(server, b, channel);
  assert.deepEqual(b.received(name), []);
});

test('a client event with string data is forwarded with the same string', async () => {
  const { channel, a, b } = await privatePair(server, 'private-strdata-');
  a.send({ event: 'client-str', channel, data: '{"already":"encoded"}' });
  const frame = await b.nextEvent('client-str');
  assert.equal(frame.data, '{"already":"encoded"}');
});
