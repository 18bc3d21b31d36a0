// Issue 12, engine side, end to end against bin/caddy: JSON escapes compared decoded (RFC 8259
// §7), subscription errors that name the channel encoded once (so pusher-js routes them), the
// nesting limit, the protocol version (4007/4008) and max_subscriptions (LimitReached).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  RawClient, connectPusher, createPublisher, sdkResult, signedRequest, subscriptionError, subscribe, nextEvent, uniq,
} from './support/clients.js';
import { assertHttpOk, assertPusherError, assertSubscribed, assertSubscriptionError } from './support/assert.js';

const server = useServer();
const limited = useServer({ options: ['max_subscriptions 5'] });

// Sends `text` verbatim: the escapes below must reach the server as written.
function sendRaw(ws, text) {
  ws.send(text);
}

test('an event name written with a JSON escape, "pusher\\u003aping", is a ping', async () => {
  const ws = await RawClient.connect(server);
  sendRaw(ws, '{"event":"pusher\\u003aping","data":{}}');
  await ws.nextEvent('pusher:pong');
});

test('a member key written with a JSON escape, "\\u0065vent", is the event member', async () => {
  const ws = await RawClient.connect(server);
  sendRaw(ws, '{"\\u0065vent":"pusher:ping","data":{}}');
  await ws.nextEvent('pusher:pong');
});

test('a channel written "esc\\u002d…" is the channel esc-… for subscribers and HTTP publishers alike', async () => {
  const ws = await RawClient.connect(server);
  const suffix = uniq();
  const channel = `esc-${suffix}`;
  sendRaw(ws, `{"event":"pusher:subscribe","data":{"auth":"","channel":"esc\\u002d${suffix}"}}`);
  assertSubscribed(await ws.nextEvent('pusher_internal:subscription_succeeded'), channel);

  // The SDK publishes to the plain name.
  const publisher = createPublisher(server);
  assert.equal((await sdkResult(publisher.trigger(channel, "plain", { n: 1 }))).status, 200);
  assert.deepEqual(JSON.parse((await ws.nextEvent('plain', { channel })).data), { n: 1 });

  // A hand-written body with the escaped name, single and listed.
  const app = server.app;
  const single = `{"name":"escaped","channel":"esc\\u002d${suffix}","data":"{\\"n\\":2}"}`;
  assertHttpOk(await signedRequest(server, { path: `/apps/${app.id}/events`, body: single }));
  assert.deepEqual(JSON.parse((await ws.nextEvent('escaped', { channel })).data), { n: 2 });
  const listed = `{"name":"listed","channels":["esc\\u002d${suffix}"],"data":"3","info":"subscription_count"}`;
  const res = await signedRequest(server, { path: `/apps/${app.id}/events`, body: listed });
  assertHttpOk(res, { channels: { [channel]: { subscription_count: 1 } } });
  assert.equal((await ws.nextEvent('listed', { channel })).data, '3');
});

for (const [label, wire, name] of [
  ['a NUL', 'a\\u0000b', 'a\u0000b'],
  ['a quote and a backslash', 'a\\"b\\\\c', 'a"b\\c'],
]) {
  test(`pusher:subscription_error names a channel with ${label} encoded once`, async () => {
    const ws = await RawClient.connect(server);
    sendRaw(ws, `{"event":"pusher:subscribe","data":{"auth":"","channel":"${wire}"}}`);
    const frame = await ws.nextEvent('pusher:subscription_error');
    assertSubscriptionError(frame, name, { type: 'InvalidChannel', status: 400 });
    await ws.ping();
  });
}

test('pusher-js routes the subscription_error of an invalid channel name to that channel', async () => {
  const client = await connectPusher(server);
  const err = await subscriptionError(client.subscribe('bad"name'));
  assert.equal(err.type, 'InvalidChannel');
  assert.equal(err.status, 400);
});

test('32 levels of nesting are accepted; 33 get a precise 4200 error and the connection stays', async () => {
  const ws = await RawClient.connect(server);
  ws.send(`{"event":"pusher:ping","data":${'['.repeat(31)}${']'.repeat(31)}}`);
  await ws.nextEvent('pusher:pong');
  ws.send(`{"event":"pusher:ping","data":${'['.repeat(32)}${']'.repeat(32)}}`);
  const data = assertPusherError(await ws.nextEvent('pusher:error'), 4200);
  assert.match(data.message, /nested too deeply/);
  await ws.ping();
});

for (const [label, query, code, message] of [
  ['an unsupported protocol version (99)', '?protocol=99&client=js&version=8.4.0', 4007, 'Unsupported protocol version'],
  ['protocol 6', '?protocol=6', 4007, 'Unsupported protocol version'],
  ['no protocol version', '?client=js&version=8.4.0', 4008, 'No protocol version supplied'],
  ['no query string at all', '', 4008, 'No protocol version supplied'],
]) {
  test(`a connection with ${label} gets pusher:error ${code}, then close ${code}`, async () => {
    const ws = await RawClient.open(server, { query });
    const data = assertPusherError(await ws.nextEvent('pusher:error'), code);
    assert.equal(data.message, message);
    const closed = await ws.waitClose();
    assert.equal(closed.code, code);
    assert.equal(ws.received('pusher:connection_established').length, 0);
  });
}

test('max_subscriptions 5: the sixth channel gets subscription_error LimitReached naming it, and the rest carries on', async () => {
  const ws = await RawClient.connect(limited);
  const base = uniq('lim-');
  for (let i = 0; i < 5; i++) assertSubscribed(await ws.subscribe(`${base}-${i}`, { auth: '' }), `${base}-${i}`);
  const sixth = `${base}-5`;
  assertSubscriptionError(await ws.subscribe(sixth, { auth: '' }), sixth, { type: 'LimitReached', status: 4100 });
  // Re-subscribing a channel it has is no new subscription; leaving one makes room.
  assertSubscribed(await ws.subscribe(`${base}-0`, { auth: '' }), `${base}-0`);
  ws.send({ event: 'pusher:unsubscribe', data: { channel: `${base}-1` } });
  assertSubscribed(await ws.subscribe(sixth, { auth: '' }), sixth);
  const publisher = createPublisher(limited);
  assert.equal((await sdkResult(publisher.trigger(sixth, "after", "x"))).status, 200);
  await ws.nextEvent('after', { channel: sixth });
});

test('max_subscriptions: pusher-js sees LimitReached on the channel over the limit', async () => {
  const client = await connectPusher(limited);
  const base = uniq('pjs-');
  for (let i = 0; i < 5; i++) await subscribe(client, `${base}-${i}`);
  const err = await subscriptionError(client.subscribe(`${base}-5`));
  assert.equal(err.type, 'LimitReached');
  assert.equal(err.status, 4100);
});

test('by default one connection holds 1,000 channels and the 1,001st is refused with LimitReached', async () => {
  const ws = await RawClient.connect(server);
  const base = uniq('k-');
  for (let i = 0; i < 1000; i++) ws.send({ event: 'pusher:subscribe', data: { auth: '', channel: `${base}-${i}` } });
  const last = await ws.nextEvent('pusher_internal:subscription_succeeded', { channel: `${base}-999`, timeout: 10000 });
  assertSubscribed(last, `${base}-999`);
  assert.equal(ws.received('pusher:subscription_error').length, 0);
  assertSubscriptionError(await ws.subscribe(`${base}-1000`, { auth: '' }), `${base}-1000`, { type: 'LimitReached' });
  // A fresh client still subscribes and receives an HTTP-published event.
  const fresh = await connectPusher(server);
  const channel = await subscribe(fresh, uniq('health-'));
  const got = nextEvent(channel, 'ok');
  assert.equal((await sdkResult(createPublisher(server).trigger(channel.name, "ok", { fine: true }))).status, 200);
  assert.deepEqual((await got).data, { fine: true });
});
