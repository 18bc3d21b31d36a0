// Issue 3: Laravel Echo 2.x (broadcaster 'pusher', on a pusher-js client): channel, private,
// join with here/joining/leaving, whisper/listenForWhisper, .error(), toOthers via socketId().

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  connectPusher,
  createEcho,
  createPublisher,
  sdkResult,
  privateAuth,
  withTimeout,
  deferred,
  subscribed,
  uniq,
} from './support/clients.js';

const server = useServer({ options: ['client_events on'] });

// An Echo instance on a connected pusher-js client; `member` is the presence identity.
async function echoFor(member) {
  const client = await connectPusher(server, {
    presence: member ? { user_id: member.id, user_info: member } : undefined,
  });
  const echo = createEcho(client);
  echo.client = client;
  return echo;
}

// Resolves with the first call's argument of a callback-registering Echo method.
function once(register, what) {
  const d = deferred();
  register((arg) => d.resolve(arg));
  return withTimeout(d.promise, 3000, what);
}

// Resolves when the Echo channel's subscription succeeded (also if it already has: Echo's own
// subscribed() callback would never fire then).
const subscribedTo = (channel) => subscribed(channel.subscription);

const alice = { id: 1, name: 'Alice' };
const bob = { id: 2, name: 'Bob' };

test('Echo channel().listen() receives a Laravel event broadcast through the SDK (App\\Events namespace)', async () => {
  const echo = await echoFor();
  const name = uniq('orders.');
  const channel = echo.channel(name);
  const got = once((cb) => channel.listen('OrderShipped', cb), 'OrderShipped');
  await subscribedTo(channel, name);
  const res = await sdkResult(createPublisher(server).trigger(name, 'App\\Events\\OrderShipped', { order: { id: 7 } }));
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(await got, { order: { id: 7 } });
});

test("Echo listen('.name') receives an event with a custom broadcastAs name", async () => {
  const echo = await echoFor();
  const name = uniq('feed.');
  const channel = echo.channel(name);
  const got = once((cb) => channel.listen('.post.created', cb), '.post.created');
  await subscribedTo(channel, name);
  await createPublisher(server).trigger(name, 'post.created', { title: 'Hi' });
  assert.deepEqual(await got, { title: 'Hi' });
});

test('Echo private() subscribes private-<name> and receives events', async () => {
  const echo = await echoFor();
  const name = uniq('App.Models.User.');
  const channel = echo.private(name);
  const got = once((cb) => channel.listen('.balance.updated', cb), 'balance.updated');
  await subscribedTo(channel, `private-${name}`);
  await createPublisher(server).trigger(`private-${name}`, 'balance.updated', { balance: 100 });
  assert.deepEqual(await got, { balance: 100 });
});

test('Echo private().notification() receives a Laravel broadcast notification', async () => {
  const echo = await echoFor();
  const name = uniq('App.Models.User.');
  const channel = echo.private(name);
  const got = once((cb) => channel.notification(cb), 'notification');
  await subscribedTo(channel, `private-${name}`);
  await createPublisher(server).trigger(
    `private-${name}`,
    'Illuminate\\Notifications\\Events\\BroadcastNotificationCreated',
    { id: 'n-1', type: 'App\\Notifications\\InvoicePaid', amount: 5 },
  );
  assert.deepEqual(await got, { id: 'n-1', type: 'App\\Notifications\\InvoicePaid', amount: 5 });
});

test('Echo .error() is called with {type:"AuthError",status:401} when the private signature is forged', async () => {
  const client = await connectPusher(server, {
    authorize: (channel, socketId) => privateAuth({ ...server.app, secret: 'forged' }, socketId, channel),
  });
  const echo = createEcho(client);
  const err = await once((cb) => echo.private(uniq('secret.')).error(cb), 'Echo error callback');
  assert.equal(err.type, 'AuthError');
  assert.equal(err.status, 401);
});

test('Echo join(): here() lists the members, joining() and leaving() report others', async () => {
  const room = uniq('room.');
  const a = await echoFor(alice);
  const joining = deferred();
  const leaving = deferred();
  const hereA = once(
    (cb) =>
      a
        .join(room)
        .here(cb)
        .joining((u) => joining.resolve(u))
        .leaving((u) => leaving.resolve(u)),
    'here() for alice',
  );
  assert.deepEqual(await hereA, [alice]);

  const b = await echoFor(bob);
  const hereB = await once((cb) => b.join(room).here(cb), 'here() for bob');
  assert.deepEqual(
    [...hereB].sort((x, y) => x.id - y.id),
    [alice, bob],
  );
  assert.deepEqual(await withTimeout(joining.promise, 3000, 'joining()'), bob);

  b.leave(room);
  assert.deepEqual(await withTimeout(leaving.promise, 3000, 'leaving()'), bob);
});

test('Echo whisper() on a private channel reaches listenForWhisper() of the other client, not the sender', async () => {
  const name = uniq('chat.');
  const a = await echoFor();
  const b = await echoFor();
  const chA = a.private(name);
  const chB = b.private(name);
  let echoed = false;
  chA.listenForWhisper('typing', () => {
    echoed = true;
  });
  const got = once((cb) => chB.listenForWhisper('typing', cb), 'whisper');
  await subscribedTo(chA, 'a');
  await subscribedTo(chB, 'b');
  chA.whisper('typing', { name: 'Alice' });
  assert.deepEqual(await got, { name: 'Alice' });
  // B whispers back: when A receives it, A's own earlier whisper would have arrived too
  const back = once((cb) => chA.listenForWhisper('ack', cb), 'ack whisper');
  chB.whisper('ack', {});
  await back;
  assert.equal(echoed, false, 'the sender received its own whisper');
});

test('Echo whisper() on a presence channel reaches the other member', async () => {
  const room = uniq('room.');
  const a = await echoFor(alice);
  const b = await echoFor(bob);
  const chA = a.join(room);
  const chB = b.join(room);
  const hereA = once((cb) => chA.here(cb), 'here a');
  const hereB = once((cb) => chB.here(cb), 'here b');
  await hereA;
  await hereB;
  const got = once((cb) => chB.listenForWhisper('typing', cb), 'presence whisper');
  chA.whisper('typing', { user: 'Alice' });
  assert.deepEqual(await got, { user: 'Alice' });
});

test('toOthers: a publish with socket_id = echo.socketId() skips that Echo client', async () => {
  const name = uniq('others.');
  const a = await echoFor();
  const b = await echoFor();
  const chA = a.channel(name);
  const chB = b.channel(name);
  let aGot = 0;
  chA.listen('.updated', () => {
    aGot += 1;
  });
  const bGot = once((cb) => chB.listen('.updated', cb), 'b updated');
  await subscribedTo(chA, 'a');
  await subscribedTo(chB, 'b');
  const publisher = createPublisher(server);
  await publisher.trigger(name, 'updated', { v: 1 }, { socket_id: a.socketId() });
  assert.deepEqual(await bGot, { v: 1 });
  const sentinel = once((cb) => chA.listen('.sentinel', cb), 'sentinel');
  await publisher.trigger(name, 'sentinel', {});
  await sentinel;
  assert.equal(aGot, 0, 'the excluded Echo client received the event');
});

test('Echo leaveChannel() stops delivery', async () => {
  const name = uniq('leave.');
  const keep = uniq('keep.');
  const echo = await echoFor();
  const ch = echo.channel(name);
  let got = 0;
  ch.listen('.late', () => {
    got += 1;
  });
  await subscribedTo(ch, name);
  const keepCh = echo.channel(keep);
  await subscribedTo(keepCh, keep);
  echo.leaveChannel(name);
  // let the unsubscribe reach the server before publishing: a ping round-trip on the same socket
  echo.client.send_event('pusher:ping', {});
  await withTimeout(
    new Promise((res) => {
      const h = (m) => m.event === 'pusher:pong' && res();
      echo.client.connection.bind('message', h);
    }),
    3000,
    'pusher:pong',
  );
  const publisher = createPublisher(server);
  await publisher.trigger(name, 'late', {});
  const sentinel = once((cb) => keepCh.listen('.sentinel', cb), 'sentinel');
  await publisher.trigger(keep, 'sentinel', {});
  await sentinel;
  assert.equal(got, 0);
  assert.ok(!echo.client.received.some((m) => m.event === 'late'));
});
