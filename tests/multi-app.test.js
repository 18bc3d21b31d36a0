// Issue 3 item 11: several apps in one pogo_websocket block, each with its own id, key, secret
// and limits; apps never see each other's channels.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  RawClient,
  connectPusher,
  subscribe,
  nextEvent,
  createPublisher,
  sdkResult,
  signedRequest,
  privateAuth,
  uniq,
} from './support/clients.js';
import { assertHttpError, assertPusherError, assertSubscribed, assertSubscriptionError } from './support/assert.js';

const ONE = { id: 'app-one', key: 'key-one', secret: 'secret-one', options: ['client_events on'] };
const TWO = { id: 'app-two', key: 'key-two', secret: 'secret-two', options: ['client_events off', 'max_message_size 1024'] };
const server = useServer({ apps: [ONE, TWO] });

const conn = (app) => RawClient.connect(server, { key: app.key });

test('a client can connect with the key of each app', async () => {
  const a = await conn(ONE);
  const b = await conn(TWO);
  assert.match(a.socketId, /^\d+\.\d+$/);
  assert.match(b.socketId, /^\d+\.\d+$/);
  const js = await connectPusher(server, { app: TWO });
  assert.equal(js.connection.state, 'connected');
});

test('a key that belongs to no app is refused with 4001', async () => {
  const ws = await RawClient.open(server, { key: 'key-three' });
  assertPusherError(await ws.next(), 4001);
  assert.equal((await ws.waitClose()).code, 4001);
});

test('a publish to app one reaches app one subscribers only, even on the same channel name', async () => {
  const channel = uniq('shared-name-');
  const one = await conn(ONE);
  const two = await conn(TWO);
  assertSubscribed(await one.subscribe(channel, { auth: '' }), channel);
  assertSubscribed(await two.subscribe(channel, { auth: '' }), channel);
  const res = await sdkResult(createPublisher(server, { app: ONE }).trigger(channel, 'for-one', 'x'));
  assert.equal(res.status, 200, res.body);
  await one.nextEvent('for-one');
  await createPublisher(server, { app: TWO }).trigger(channel, 'sentinel', 'y');
  await two.nextEvent('sentinel');
  assert.deepEqual(two.received('for-one'), []);
  assert.deepEqual(one.received('sentinel'), []);
});

test('pusher-js clients of two apps each receive only their own app events', async () => {
  const name = uniq('js-shared-');
  const c1 = await connectPusher(server, { app: ONE });
  const c2 = await connectPusher(server, { app: TWO });
  const ch1 = await subscribe(c1, name);
  const ch2 = await subscribe(c2, name);
  const got1 = nextEvent(ch1, 'hello');
  const got2 = nextEvent(ch2, 'hello');
  await createPublisher(server, { app: ONE }).trigger(name, 'hello', { app: 1 });
  await createPublisher(server, { app: TWO }).trigger(name, 'hello', { app: 2 });
  assert.deepEqual((await got1).data, { app: 1 });
  assert.deepEqual((await got2).data, { app: 2 });
  assert.equal(c1.received.filter((m) => m.event === 'hello').length, 1);
});

test("app two's credentials cannot publish to app one (401) and nothing is delivered", async () => {
  const channel = uniq('cross-');
  const one = await conn(ONE);
  assertSubscribed(await one.subscribe(channel, { auth: '' }), channel);
  const res = await signedRequest(server, {
    app: TWO,
    path: `/apps/${ONE.id}/events`,
    body: { name: 'cross', channel, data: '{}' },
  });
  assertHttpError(res, 401);
  await createPublisher(server, { app: ONE }).trigger(channel, 'sentinel', 'x');
  await one.nextEvent('sentinel');
  assert.deepEqual(one.received('cross'), []);
});

test("a private channel signature made with app two's secret is refused on an app one connection", async () => {
  const channel = uniq('private-cross-');
  const one = await conn(ONE);
  assertSubscriptionError(await one.subscribe(channel, privateAuth(TWO, one.socketId, channel)), channel, { status: 401 });
  assertSubscribed(await one.subscribePrivate(channel, ONE), channel);
});

test('presence members of the same channel name are separate per app', async () => {
  const channel = uniq('presence-shared-');
  const one = await conn(ONE);
  assertSubscribed(await one.subscribePresence(channel, { user_id: 'one', user_info: {} }, ONE), channel);
  const two = await conn(TWO);
  const reply = await two.subscribePresence(channel, { user_id: 'two', user_info: {} }, TWO);
  assert.deepEqual(JSON.parse(reply.data).presence.ids.map(String), ['two']);
  await createPublisher(server, { app: ONE }).trigger(channel, 'sentinel', 'x');
  await one.nextEvent('sentinel');
  assert.deepEqual(one.received('pusher_internal:member_added'), []);
});

test('per-app options: client events pass on app one and are refused on app two', async () => {
  for (const app of [ONE, TWO]) {
    const channel = uniq('private-whisper-');
    const a = await conn(app);
    const b = await conn(app);
    assertSubscribed(await a.subscribePrivate(channel, app), channel);
    assertSubscribed(await b.subscribePrivate(channel, app), channel);
    a.send({ event: 'client-hi', channel, data: {} });
    if (app === ONE) {
      await b.nextEvent('client-hi');
    } else {
      assertPusherError(await a.nextEvent('pusher:error'));
      await createPublisher(server, { app }).trigger(channel, 'sentinel', 'x');
      await b.nextEvent('sentinel');
      assert.deepEqual(b.received('client-hi'), []);
    }
  }
});

test('per-app limits: a 2 KB frame is accepted by app one and refused by app two (max_message_size 1024)', async () => {
  const one = await conn(ONE);
  one.send({ event: 'pusher:ping', data: { pad: 'p'.repeat(2048) } });
  await one.nextEvent('pusher:pong');
  const two = await conn(TWO);
  two.send({ event: 'pusher:ping', data: { pad: 'p'.repeat(2048) } });
  assertPusherError(await two.next((f) => f.event === 'pusher:error' || f.event === 'pusher:pong'));
});

test('an HTTP request for an app id that does not exist gets 404', async () => {
  const res = await signedRequest(server, {
    app: { ...ONE, id: 'app-three' },
    path: '/apps/app-three/events',
    body: { name: 'x', channel: 'c', data: '{}' },
  });
  assertHttpError(res, 404);
});
