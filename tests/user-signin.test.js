// Issue 3 item 4: pusher:signin, #server-to-user-<id> channels, SDK sendToUser, and the
// optional per-app timeout for connections that never authenticate.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  RawClient,
  signedInPusher,
  connectPusher,
  nextEvent,
  nextMessage,
  createPublisher,
  sdkResult,
  userAuth,
  parseMaybe,
  uniq,
} from './support/clients.js';
import { assertPusherError, assertSubscribed, assertSubscriptionError } from './support/assert.js';

const server = useServer();
const timed = useServer({ options: ['user_auth_timeout 1s'] });

test('a correctly signed pusher:signin is answered with pusher:signin_success carrying the user_data string', async () => {
  const ws = await RawClient.connect(server);
  const userData = { id: uniq('user-'), user_info: { name: 'Alice' } };
  const reply = await ws.signin(userData, server.app);
  assert.equal(reply.event, 'pusher:signin_success', JSON.stringify(reply));
  const data = parseMaybe(reply.data);
  assert.equal(data.user_data, JSON.stringify(userData));
  await ws.ping();
});

test('pusher-js signs in and then subscribes to its #server-to-user-<id> channel', async () => {
  const id = uniq('u');
  const client = await signedInPusher(server, { id });
  assert.deepEqual(client.user.user_data, { id });
});

test('SDK sendToUser reaches every connection of that user and no other user', async () => {
  const id = uniq('u');
  const otherId = uniq('u');
  const tab1 = await signedInPusher(server, { id });
  const tab2 = await signedInPusher(server, { id });
  const other = await signedInPusher(server, { id: otherId });
  const got1 = nextEvent(tab1.user, 'notice');
  const got2 = nextEvent(tab2.user, 'notice');
  const publisher = createPublisher(server);
  const res = await sdkResult(publisher.sendToUser(id, 'notice', { text: 'for you' }));
  assert.equal(res.status, 200, res.body);
  assert.deepEqual((await got1).data, { text: 'for you' });
  assert.deepEqual((await got2).data, { text: 'for you' });
  const sentinel = nextEvent(other.user, 'sentinel');
  await publisher.sendToUser(otherId, 'sentinel', {});
  await sentinel;
  assert.ok(!other.received.some((m) => m.event === 'notice'), 'another user received a server-to-user event');
});

test('a server-to-user event arrives on the wire as an event on #server-to-user-<id>', async () => {
  const id = uniq('u');
  const ws = await RawClient.connect(server);
  assert.equal((await ws.signin({ id }, server.app)).event, 'pusher:signin_success');
  const channel = `#server-to-user-${id}`;
  assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
  await createPublisher(server).sendToUser(id, 'direct', { n: 1 });
  const frame = await ws.nextEvent('direct');
  assert.equal(frame.channel, channel);
  assert.deepEqual(parseMaybe(frame.data), { n: 1 });
});

test('a pusher:signin with a bad signature gets pusher:error 4009 and the connection is closed', async () => {
  const ws = await RawClient.connect(server);
  const reply = await ws.signin({ id: 'mallory' }, { ...server.app, secret: 'wrong' });
  assertPusherError(reply, 4009);
  const closed = await ws.waitClose();
  assert.equal(closed.code, 4009);
});

test('a signin whose user_data has no id is refused with pusher:error', async () => {
  const ws = await RawClient.connect(server);
  assertPusherError(await ws.signin({ user_info: { name: 'nobody' } }, server.app));
  assert.deepEqual(ws.received('pusher:signin_success'), []);
});

test('a signin whose user_data id is an empty string is refused with pusher:error', async () => {
  const ws = await RawClient.connect(server);
  assertPusherError(await ws.signin({ id: '' }, server.app));
  assert.deepEqual(ws.received('pusher:signin_success'), []);
});

test('a signin whose user_data id is not a string is refused with pusher:error', async () => {
  const ws = await RawClient.connect(server);
  assertPusherError(await ws.signin({ id: 12345 }, server.app));
  assert.deepEqual(ws.received('pusher:signin_success'), []);
});

test('a signin whose user_data is not JSON is refused with pusher:error', async () => {
  const ws = await RawClient.connect(server);
  const signed = userAuth(server.app, ws.socketId, 'not json');
  ws.send({ event: 'pusher:signin', data: signed });
  assertPusherError(await ws.next((f) => f.event === 'pusher:error' || f.event === 'pusher:signin_success'));
});

test('#server-to-user-<id> cannot be subscribed without signing in', async () => {
  const ws = await RawClient.connect(server);
  const channel = `#server-to-user-${uniq('u')}`;
  assertSubscriptionError(await ws.subscribe(channel, { auth: '' }), channel);
});

test("#server-to-user-<id> of another user cannot be subscribed, and that user's events do not leak", async () => {
  const me = uniq('u');
  const victim = uniq('u');
  const ws = await RawClient.connect(server);
  assert.equal((await ws.signin({ id: me }, server.app)).event, 'pusher:signin_success');
  const channel = `#server-to-user-${victim}`;
  assertSubscriptionError(await ws.subscribe(channel, { auth: '' }), channel);
  const own = `#server-to-user-${me}`;
  assertSubscribed(await ws.subscribe(own, { auth: '' }), own);
  const publisher = createPublisher(server);
  await publisher.sendToUser(victim, 'private-note', {});
  await publisher.sendToUser(me, 'sentinel', {});
  await ws.nextEvent('sentinel');
  assert.deepEqual(ws.received('private-note'), []);
});

// user_auth_timeout 1s. The clock for "still open" is an idle connection opened just after the
// one under test being closed: by then the timeout has passed for both.
test('with user_auth_timeout, a connection that neither signs in nor subscribes to a private channel is closed with 4009', async () => {
  const idle = await RawClient.connect(timed);
  const publicOnly = await RawClient.connect(timed);
  const channel = uniq('public-');
  assertSubscribed(await publicOnly.subscribe(channel, { auth: '' }), channel);
  const closed = await idle.waitClose(5000);
  assert.equal(closed.code, 4009);
  assert.equal((await publicOnly.waitClose(5000)).code, 4009);
});

test('with user_auth_timeout, a connection that signs in in time stays open', async () => {
  const ws = await RawClient.connect(timed);
  const clock = await RawClient.connect(timed); // opened after ws: its deadline is not earlier
  assert.equal((await ws.signin({ id: uniq('u') }, timed.app)).event, 'pusher:signin_success');
  await clock.waitClose(5000);
  await ws.ping();
  assert.equal(ws.closed, null);
});

test('with user_auth_timeout, a connection subscribed to a private channel in time stays open', async () => {
  const ws = await RawClient.connect(timed);
  const clock = await RawClient.connect(timed); // opened after ws: its deadline is not earlier
  const channel = uniq('private-keep-');
  assertSubscribed(await ws.subscribePrivate(channel, timed.app), channel);
  await clock.waitClose(5000);
  await ws.ping();
  assert.equal(ws.closed, null);
});

test('without user_auth_timeout, an idle connection is not closed for lack of authentication', async () => {
  const idle = await RawClient.connect(server);
  const clockServerConn = await RawClient.connect(timed);
  await clockServerConn.waitClose(5000);
  await idle.ping();
  assert.equal(idle.closed, null);
});
