// Issue 2: public subscribe/unsubscribe, delivery of SDK publishes to pusher-js, several
// channels, socket_id exclusion.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  RawClient,
  connectPusher,
  subscribe,
  nextEvent,
  nextMessage,
  createPublisher,
  sdkResult,
  uniq,
} from './support/clients.js';
import { assertSubscribed } from './support/assert.js';

const server = useServer();

test('a raw subscribe to a public channel is answered with {"event":"pusher_internal:subscription_succeeded","channel":…,"data":"{}"}', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('public-');
  const reply = await ws.subscribe(channel, { auth: '' });
  assert.deepEqual(reply, { event: 'pusher_internal:subscription_succeeded', channel, data: '{}' });
});

test('a raw subscribe without an auth field succeeds on a public channel', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('public-');
  assertSubscribed(await ws.subscribe(channel), channel);
});

test('pusher-js subscribes to a public channel and fires pusher:subscription_succeeded', async () => {
  const client = await connectPusher(server);
  const channel = await subscribe(client, uniq('news-'));
  assert.equal(channel.subscribed, true);
});

test('a pusher-js client receives an event published through the pusher SDK, with data exactly as posted', async () => {
  const client = await connectPusher(server);
  const name = uniq('orders-');
  const channel = await subscribe(client, name);
  const got = nextEvent(channel, 'order-shipped');
  const res = await sdkResult(createPublisher(server).trigger(name, 'order-shipped', { id: 42, items: ['a', 'b'] }));
  assert.equal(res.status, 200, res.body);
  const { data } = await got;
  assert.deepEqual(data, { id: 42, items: ['a', 'b'] });
});

test('the delivered frame is {"event":…,"channel":…,"data":"<the posted data string>"}', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('raw-');
  assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
  const payload = JSON.stringify({ text: 'quote " backslash \\ newline \n tab \t unicode é ☃ 😀 </script>', n: 1.5, nil: null });
  await createPublisher(server).trigger(channel, 'App\\Events\\Thing', payload);
  const frame = await ws.nextEvent('App\\Events\\Thing');
  assert.deepEqual(frame, { event: 'App\\Events\\Thing', channel, data: payload });
});

test('a plain (non-JSON) data string is delivered unchanged', async () => {
  const ws = await RawClient.connect(server);
  const channel = uniq('raw-');
  assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
  await createPublisher(server).trigger(channel, 'plain', 'just some text');
  const frame = await ws.nextEvent('plain');
  assert.equal(frame.data, 'just some text');
});

test('one SDK trigger to several channels reaches the subscribers of each channel', async () => {
  const [a, b, c] = [uniq('multi-a-'), uniq('multi-b-'), uniq('multi-c-')];
  const one = await connectPusher(server);
  const two = await connectPusher(server);
  const chA = await subscribe(one, a);
  const chB = await subscribe(one, b);
  const chC = await subscribe(two, c);
  const gotA = nextEvent(chA, 'fanout');
  const gotB = nextEvent(chB, 'fanout');
  const gotC = nextEvent(chC, 'fanout');
  const res = await sdkResult(createPublisher(server).trigger([a, b, c], 'fanout', { n: 7 }));
  assert.equal(res.status, 200, res.body);
  assert.deepEqual((await gotA).data, { n: 7 });
  assert.deepEqual((await gotB).data, { n: 7 });
  assert.deepEqual((await gotC).data, { n: 7 });
});

test('a client subscribed to two of the channels of one publish gets the event once on each channel', async () => {
  const [a, b] = [uniq('twice-a-'), uniq('twice-b-')];
  const ws = await RawClient.connect(server);
  assertSubscribed(await ws.subscribe(a, { auth: '' }), a);
  assertSubscribed(await ws.subscribe(b, { auth: '' }), b);
  await createPublisher(server).trigger([a, b], 'both', 'x');
  // sentinel: ordering on one connection means it arrives after anything the first publish caused
  await createPublisher(server).trigger(a, 'sentinel', 'end');
  await ws.nextEvent('sentinel');
  const got = ws.received('both');
  assert.deepEqual(got.map((f) => f.channel).sort(), [a, b].sort());
});

test('every subscriber of a channel receives the event', async () => {
  const name = uniq('many-');
  const clients = await Promise.all([0, 1, 2, 3, 4].map(() => connectPusher(server)));
  const channels = await Promise.all(clients.map((c) => subscribe(c, name)));
  const waits = channels.map((ch) => nextEvent(ch, 'hello'));
  await createPublisher(server).trigger(name, 'hello', { hi: 1 });
  for (const w of waits) assert.deepEqual((await w).data, { hi: 1 });
});

test('the connection whose socket_id is given to trigger does not receive the event; the others do', async () => {
  const name = uniq('exclude-');
  const sender = await connectPusher(server);
  const other = await connectPusher(server);
  const senderCh = await subscribe(sender, name);
  const otherCh = await subscribe(other, name);
  const otherGot = nextEvent(otherCh, 'excluded-event');
  const publisher = createPublisher(server);
  const res = await sdkResult(publisher.trigger(name, 'excluded-event', { a: 1 }, { socket_id: sender.connection.socket_id }));
  assert.equal(res.status, 200, res.body);
  assert.deepEqual((await otherGot).data, { a: 1 });
  // sentinel without exclusion: when it reaches the sender, the excluded event would have too
  const sentinel = nextEvent(senderCh, 'sentinel');
  await publisher.trigger(name, 'sentinel', {});
  await sentinel;
  assert.ok(
    !sender.received.some((m) => m.event === 'excluded-event'),
    `excluded socket received: ${JSON.stringify(sender.received)}`,
  );
});

test('socket_id exclusion applies to every channel of a multi-channel publish', async () => {
  const [a, b] = [uniq('exa-'), uniq('exb-')];
  const ws = await RawClient.connect(server);
  assertSubscribed(await ws.subscribe(a, { auth: '' }), a);
  assertSubscribed(await ws.subscribe(b, { auth: '' }), b);
  const publisher = createPublisher(server);
  await publisher.trigger([a, b], 'nope', 'x', { socket_id: ws.socketId });
  await publisher.trigger(b, 'sentinel', 'y');
  await ws.nextEvent('sentinel');
  assert.deepEqual(ws.received('nope'), []);
});

test('after pusher:unsubscribe the server sends no reply and delivers nothing more on that channel', async () => {
  const name = uniq('unsub-');
  const keep = uniq('keep-');
  const ws = await RawClient.connect(server);
  assertSubscribed(await ws.subscribe(name, { auth: '' }), name);
  assertSubscribed(await ws.subscribe(keep, { auth: '' }), keep);
  const before = ws.frames.length;
  ws.send({ event: 'pusher:unsubscribe', data: { channel: name } });
  const pong = await ws.ping();
  assert.deepEqual(ws.frames.slice(before), [pong], 'unsubscribe must not be answered');
  const publisher = createPublisher(server);
  await publisher.trigger(name, 'after-unsubscribe', 'x');
  await publisher.trigger(keep, 'sentinel', 'y');
  await ws.nextEvent('sentinel');
  assert.deepEqual(ws.received('after-unsubscribe'), []);
});

test('pusher-js unsubscribe stops delivery to that client while other subscribers still receive', async () => {
  const name = uniq('unsub-js-');
  const keep = uniq('keep-js-');
  const leaver = await connectPusher(server);
  const stayer = await connectPusher(server);
  await subscribe(leaver, name);
  const keepCh = await subscribe(leaver, keep);
  const stayerCh = await subscribe(stayer, name);
  leaver.unsubscribe(name);
  // the unsubscribe frame is sent before the ping: wait for the pong so the server has handled it
  leaver.send_event('pusher:ping', {});
  await nextMessage(leaver, (m) => m.event === 'pusher:pong', { what: 'pusher:pong' });
  const publisher = createPublisher(server);
  const stayerGot = nextEvent(stayerCh, 'late');
  await publisher.trigger(name, 'late', { x: 1 });
  await stayerGot;
  const sentinel = nextEvent(keepCh, 'sentinel');
  await publisher.trigger(keep, 'sentinel', {});
  await sentinel;
  assert.ok(!leaver.received.some((m) => m.event === 'late'), JSON.stringify(leaver.received));
});

test('a closed connection is removed from its channels: publishing afterwards still reaches the rest', async () => {
  const name = uniq('gone-');
  const gone = await RawClient.connect(server);
  assertSubscribed(await gone.subscribe(name, { auth: '' }), name);
  const stays = await RawClient.connect(server);
  assertSubscribed(await stays.subscribe(name, { auth: '' }), name);
  await gone.close();
  const res = await sdkResult(createPublisher(server).trigger(name, 'still-here', 'x'));
  assert.equal(res.status, 200, res.body);
  await stays.nextEvent('still-here');
});

test('events published to a channel nobody is subscribed to are accepted with 200 {}', async () => {
  const res = await sdkResult(createPublisher(server).trigger(uniq('empty-'), 'void', { a: 1 }));
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(res.json, {});
});
