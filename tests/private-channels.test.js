// Issue 3 item 1: private channels, authorised with key:hex(hmac_sha256(secret, "socket_id:channel")).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  RawClient,
  connectPusher,
  subscribe,
  subscriptionError,
  nextEvent,
  createPublisher,
  privateAuth,
  hmacHex,
  uniq,
} from './support/clients.js';
import { assertSubscribed, assertSubscriptionError } from './support/assert.js';

const server = useServer();
const forged = (app) => ({ ...app, secret: 'not-the-secret' });

test('pusher-js subscribes to a private channel with a correctly signed auth', async () => {
  const client = await connectPusher(server);
  const ch = await subscribe(client, uniq('private-orders-'));
  assert.equal(ch.subscribed, true);
});

test('a correctly signed private subscribe is answered with subscription_succeeded and data "{}"', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('private-raw-');
  const reply = await ws.subscribePrivate(channel, server.app);
  assert.deepEqual(reply, { event: 'pusher_internal:subscription_succeeded', channel, data: '{}' });
});

test('a private channel subscriber receives events published through the SDK', async () => {
  const name = uniq('private-pub-');
  const client = await connectPusher(server);
  const ch = await subscribe(client, name);
  const got = nextEvent(ch, 'secret-event');
  await createPublisher(server).trigger(name, 'secret-event', { s: 1 });
  assert.deepEqual((await got).data, { s: 1 });
});

test('a client on a private channel receives subscription_error 401 (AuthError) for a forged signature and the connection stays open', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('private-forged-');
  const reply = await ws.subscribe(channel, privateAuth(forged(server.app), ws.socketId, channel));
  assertSubscriptionError(reply, channel, { type: 'AuthError', status: 401 });
  await ws.ping();
  assert.equal(ws.closed, null);
});

test('pusher-js fires pusher:subscription_error {type:"AuthError",status:401} for a forged private signature', async () => {
  const client = await connectPusher(server, {
    authorize: (channel, socketId) => privateAuth(forged(server.app), socketId, channel),
  });
  const ch = client.subscribe(uniq('private-forged-js-'));
  const err = await subscriptionError(ch);
  assert.equal(err.type, 'AuthError');
  assert.equal(err.status, 401);
  assert.equal(typeof err.error, 'string');
  assert.equal(client.connection.state, 'connected');
});

test('a private subscribe without auth gets subscription_error 401', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('private-noauth-');
  assertSubscriptionError(await ws.subscribe(channel), channel, { type: 'AuthError', status: 401 });
});

test('a private subscribe with an empty auth gets subscription_error 401', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('private-empty-');
  assertSubscriptionError(await ws.subscribe(channel, { auth: '' }), channel, { type: 'AuthError', status: 401 });
});

test('a signature made for another channel is refused with subscription_error 401', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('private-target-');
  const reply = await ws.subscribe(channel, privateAuth(server.app, ws.socketId, `${channel}-other`));
  assertSubscriptionError(reply, channel, { type: 'AuthError', status: 401 });
});

test('a signature made for another socket_id is refused with subscription_error 401', async () => {
  const victim = await RawClient.connect(server);
  const thief = await RawClient.connect(server);
  const channel = uniq('private-stolen-');
  const reply = await thief.subscribe(channel, privateAuth(server.app, victim.socketId, channel));
  assertSubscriptionError(reply, channel, { type: 'AuthError', status: 401 });
});

test('a signature without the "key:" prefix is refused', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('private-nokey-');
  const reply = await ws.subscribe(channel, { auth: hmacHex(server.app.secret, `${ws.socketId}:${channel}`) });
  assertSubscriptionError(reply, channel, { status: 401 });
});

test('a refused private subscription receives no events; a later correct subscribe succeeds', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('private-after-');
  const sentinelChannel = uniq('public-sentinel-');
  assertSubscriptionError(await ws.subscribe(channel, privateAuth(forged(server.app), ws.socketId, channel)), channel, {
    status: 401,
  });
  assertSubscribed(await ws.subscribe(sentinelChannel, { auth: '' }), sentinelChannel);
  const publisher = createPublisher(server);
  await publisher.trigger(channel, 'leak', 'x');
  await publisher.trigger(sentinelChannel, 'sentinel', 'y');
  await ws.nextEvent('sentinel');
  assert.deepEqual(ws.received('leak'), [], 'an unauthorised subscriber received a private event');
  assertSubscribed(await ws.subscribePrivate(channel, server.app), channel);
  await publisher.trigger(channel, 'allowed', 'z');
  await ws.nextEvent('allowed', { channel });
});

test('private-encrypted- channels are authorised like private channels (forged signature → 401)', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('private-encrypted-auth-');
  assertSubscriptionError(await ws.subscribe(channel, privateAuth(forged(server.app), ws.socketId, channel)), channel, {
    type: 'AuthError',
    status: 401,
  });
  assertSubscribed(await ws.subscribePrivate(channel, server.app), channel);
});
