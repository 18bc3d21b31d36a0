// Issue 3 item 2: presence channels: signature over socket_id:channel:channel_data, the member
// list in subscription_succeeded, member_added/member_removed per user (not per connection).

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
  publish,
  presenceAuth,
  privateAuth,
  parseMaybe,
  uniq,
} from './support/clients.js';
import { assertSubscribed, assertSubscriptionError } from './support/assert.js';

const server = useServer();

const alice = { user_id: 'u-alice', user_info: { name: 'Alice' } };
const bob = { user_id: 'u-bob', user_info: { name: 'Bob', roles: ['admin'] } };
const carol = { user_id: 'u-carol', user_info: { name: 'Carol' } };

function presenceData(frame) {
  assert.equal(typeof frame.data, 'string', 'presence subscription_succeeded data must be a JSON string');
  const data = JSON.parse(frame.data);
  assert.ok(data.presence, `no presence key: ${frame.data}`);
  return data.presence;
}

const ids = (presence) => presence.ids.map(String).sort();

// Ends the exchange with a sentinel publish on `channel` that `ws` must receive, so that every
// frame the earlier actions caused for `ws` has arrived.
async function flush(ws, channel) {
  await publish(server, { channel, name: 'sentinel', data: uniq() });
  await ws.nextEvent('sentinel', { channel });
}

test('the first member gets subscription_succeeded with presence {ids:[me],hash:{me:info},count:1}', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('presence-room-');
  const reply = await ws.subscribePresence(channel, alice, server.app);
  assertSubscribed(reply, channel);
  const p = presenceData(reply);
  assert.deepEqual(ids(p), ['u-alice']);
  assert.deepEqual(p.hash, { 'u-alice': { name: 'Alice' } });
  assert.equal(p.count, 1);
});

test('a joining member gets the full member list and the others get member_added with user_id and user_info', async () => {
  const channel = uniq('presence-join-');
  const a = await RawClient.connect(server);
  assertSubscribed(await a.subscribePresence(channel, alice, server.app), channel);
  const b = await RawClient.connect(server);
  const reply = await b.subscribePresence(channel, bob, server.app);
  const p = presenceData(reply);
  assert.deepEqual(ids(p), ['u-alice', 'u-bob']);
  assert.deepEqual(p.hash, { 'u-alice': { name: 'Alice' }, 'u-bob': { name: 'Bob', roles: ['admin'] } });
  assert.equal(p.count, 2);
  const added = await a.nextEvent('pusher_internal:member_added', { channel });
  assert.deepEqual(parseMaybe(added.data), { user_id: 'u-bob', user_info: { name: 'Bob', roles: ['admin'] } });
  // the joiner is not told about itself
  await flush(b, channel);
  assert.deepEqual(b.received('pusher_internal:member_added'), []);
});

test('a leaving member (socket closed) produces member_removed {user_id} for the others', async () => {
  const channel = uniq('presence-leave-');
  const a = await RawClient.connect(server);
  assertSubscribed(await a.subscribePresence(channel, alice, server.app), channel);
  const b = await RawClient.connect(server);
  assertSubscribed(await b.subscribePresence(channel, bob, server.app), channel);
  await b.close();
  const removed = await a.nextEvent('pusher_internal:member_removed', { channel });
  assert.deepEqual(parseMaybe(removed.data), { user_id: 'u-bob' });
});

test('a member that unsubscribes produces member_removed for the others', async () => {
  const channel = uniq('presence-unsub-');
  const a = await RawClient.connect(server);
  assertSubscribed(await a.subscribePresence(channel, alice, server.app), channel);
  const b = await RawClient.connect(server);
  assertSubscribed(await b.subscribePresence(channel, bob, server.app), channel);
  b.send({ event: 'pusher:unsubscribe', data: { channel } });
  const removed = await a.nextEvent('pusher_internal:member_removed', { channel });
  assert.deepEqual(parseMaybe(removed.data), { user_id: 'u-bob' });
});

test('two connections of one user count as one member: member_added only on the first, member_removed only when the last leaves', async () => {
  const channel = uniq('presence-dedup-');
  const observer = await RawClient.connect(server);
  assertSubscribed(await observer.subscribePresence(channel, carol, server.app), channel);

  const tab1 = await RawClient.connect(server);
  assertSubscribed(await tab1.subscribePresence(channel, alice, server.app), channel);
  const tab2 = await RawClient.connect(server);
  const second = await tab2.subscribePresence(channel, alice, server.app);
  // the second tab sees alice once
  const p = presenceData(second);
  assert.deepEqual(ids(p), ['u-alice', 'u-carol']);
  assert.equal(p.count, 2);

  await flush(observer, channel);
  assert.equal(observer.received('pusher_internal:member_added', channel).length, 1, 'member_added must fire once per user');

  // a third party joining also sees alice once
  const late = await RawClient.connect(server);
  const lateP = presenceData(await late.subscribePresence(channel, bob, server.app));
  assert.deepEqual(ids(lateP), ['u-alice', 'u-bob', 'u-carol']);
  assert.equal(lateP.count, 3);

  await tab1.close();
  await flush(observer, channel);
  assert.deepEqual(observer.received('pusher_internal:member_removed', channel), [], 'alice still has a connection');

  await tab2.close();
  const removed = await observer.nextEvent('pusher_internal:member_removed', { channel });
  assert.deepEqual(parseMaybe(removed.data), { user_id: 'u-alice' });
  await flush(observer, channel);
  assert.equal(observer.received('pusher_internal:member_removed', channel).length, 1, 'member_removed must fire once per user');
});

test('a Laravel-style integer user_id is accepted and de-duplicated', async () => {
  const channel = uniq('presence-int-');
  const member = { user_id: 42, user_info: { name: 'Int' } };
  const a = await RawClient.connect(server);
  const p1 = presenceData(await a.subscribePresence(channel, member, server.app));
  assert.deepEqual(ids(p1), ['42']);
  assert.deepEqual(p1.hash, { 42: { name: 'Int' } });
  const observer = await RawClient.connect(server);
  assertSubscribed(await observer.subscribePresence(channel, carol, server.app), channel);
  const b = await RawClient.connect(server);
  const p2 = presenceData(await b.subscribePresence(channel, member, server.app));
  assert.deepEqual(ids(p2), ['42', 'u-carol']);
  assert.equal(p2.count, 2);
  await flush(observer, channel);
  assert.deepEqual(observer.received('pusher_internal:member_added', channel), []);
});

test('pusher-js presence: members, me, member_added and member_removed events', async () => {
  const name = uniq('presence-js-');
  const one = await connectPusher(server, { presence: alice });
  const ch1 = await subscribe(one, name);
  assert.equal(ch1.members.count, 1);
  assert.deepEqual(ch1.members.me, { id: 'u-alice', info: { name: 'Alice' } });

  const added = nextEvent(ch1, 'pusher:member_added');
  const two = await connectPusher(server, { presence: bob });
  const ch2 = await subscribe(two, name);
  assert.equal(ch2.members.count, 2);
  assert.deepEqual(ch2.members.get('u-alice'), { id: 'u-alice', info: { name: 'Alice' } });
  assert.deepEqual((await added).data, { id: 'u-bob', info: { name: 'Bob', roles: ['admin'] } });
  assert.equal(ch1.members.count, 2);

  const removed = nextEvent(ch1, 'pusher:member_removed');
  two.close();
  assert.deepEqual((await removed).data, { id: 'u-bob', info: { name: 'Bob', roles: ['admin'] } });
  assert.equal(ch1.members.count, 1);
});

test('a forged presence signature gets subscription_error 401 and no member_added reaches the others', async () => {
  const channel = uniq('presence-forged-');
  const a = await RawClient.connect(server);
  assertSubscribed(await a.subscribePresence(channel, alice, server.app), channel);
  const b = await RawClient.connect(server);
  const reply = await b.subscribe(channel, presenceAuth({ ...server.app, secret: 'nope' }, b.socketId, channel, bob));
  assertSubscriptionError(reply, channel, { type: 'AuthError', status: 401 });
  await b.ping();
  await flush(a, channel);
  assert.deepEqual(a.received('pusher_internal:member_added'), []);
});

test('channel_data changed after signing (the exact signed string differs) is refused with 401', async () => {
  const channel = uniq('presence-tamper-');
  const ws = await RawClient.connect(server);
  const signed = presenceAuth(server.app, ws.socketId, channel, alice);
  // same JSON value, different bytes: the signature covers the exact string
  const reply = await ws.subscribe(channel, { auth: signed.auth, channel_data: JSON.stringify(alice, null, 1) });
  assertSubscriptionError(reply, channel, { status: 401 });
  const reply2 = await ws.subscribe(channel, { auth: signed.auth, channel_data: JSON.stringify({ ...alice, user_id: 'u-mallory' }) });
  assertSubscriptionError(reply2, channel, { status: 401 });
});

test('a presence signature made without channel_data (private-style) is refused', async () => {
  const channel = uniq('presence-nodata-');
  const ws = await RawClient.connect(server);
  const reply = await ws.subscribe(channel, privateAuth(server.app, ws.socketId, channel));
  assertSubscriptionError(reply, channel);
  await ws.ping();
});

test('pusher-js fires pusher:subscription_error 401 for a forged presence signature', async () => {
  const client = await connectPusher(server, {
    authorize: (channel, socketId) => presenceAuth({ ...server.app, secret: 'nope' }, socketId, channel, alice),
  });
  const ch = client.subscribe(uniq('presence-forged-js-'));
  const err = await subscriptionError(ch);
  assert.equal(err.type, 'AuthError');
  assert.equal(err.status, 401);
});

test('presence channels deliver SDK events to members', async () => {
  const name = uniq('presence-events-');
  const client = await connectPusher(server, { presence: alice });
  const ch = await subscribe(client, name);
  const got = nextEvent(ch, 'announce');
  await createPublisher(server).trigger(name, 'announce', { t: 'hi' });
  assert.deepEqual((await got).data, { t: 'hi' });
});
