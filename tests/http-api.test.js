// Issue 4: the signed Pusher HTTP API: events (+info), batch_events, channels, channel, users,
// connections, terminate_connections, health, and the authentication and limit edge cases.
// Each refused request is also checked on the clients: nothing is delivered.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, DEFAULT_MATCHER } from './support/server.js';
import {
  RawClient,
  connectPusher,
  nextMessage,
  createPublisher,
  sdkResult,
  signedRequest,
  httpRequest,
  publish,
  signParams,
  uniq,
  withTimeout,
} from './support/clients.js';
import { assertHttpError, assertHttpOk, assertSubscribed } from './support/assert.js';

// The matcher also routes /some/prefix/* to the module: a server mounted under a prefix.
const server = useServer({ matcher: `${DEFAULT_MATCHER} /some/prefix/*` });
const smallPayload = useServer({ options: ['max_event_payload 1000'] });
const counting = useServer();

const APP = () => server.app;
const eventsPath = () => `/apps/${APP().id}/events`;
const batchPath = () => `/apps/${APP().id}/batch_events`;
const sdk = () => createPublisher(server);
const get = (path, params) => sdkResult(sdk().get({ path, params }));
const member = (id) => ({ user_id: id, user_info: { name: id } });

async function listener(channel, srv = server) {
  const ws = await RawClient.connect(srv);
  if (channel.startsWith('presence-')) assertSubscribed(await ws.subscribePresence(channel, member(uniq('m')), srv.app), channel);
  else if (channel.startsWith('private-')) assertSubscribed(await ws.subscribePrivate(channel, srv.app), channel);
  else assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
  return ws;
}

async function presenceMember(channel, userId) {
  const ws = await RawClient.connect(server);
  assertSubscribed(await ws.subscribePresence(channel, member(userId), server.app), channel);
  return ws;
}

// After a refused request: a valid publish on `channel` arrives at `ws`, `forbidden` never did.
async function assertNothingDelivered(ws, channel, forbidden, srv = server) {
  await publish(srv, { channel, name: 'sentinel', data: 'ok' });
  await ws.nextEvent('sentinel', { channel });
  assert.deepEqual(ws.received(forbidden), [], `a refused request delivered ${forbidden}`);
}

// ---------------------------------------------------------------------------------------------
// POST /events

test('events: info=subscription_count answers the subscription count per channel', async () => {
  const channel = uniq('info-');
  await listener(channel);
  await listener(channel);
  const res = await sdkResult(sdk().trigger(channel, 'e', {}, { info: 'subscription_count' }));
  assertHttpOk(res, { channels: { [channel]: { subscription_count: 2 } } });
});

test('events: info=user_count on a presence channel counts distinct users', async () => {
  const channel = uniq('presence-info-');
  await presenceMember(channel, 'u1');
  await presenceMember(channel, 'u1');
  await presenceMember(channel, 'u2');
  const res = await sdkResult(sdk().trigger(channel, 'e', {}, { info: 'user_count' }));
  assertHttpOk(res, { channels: { [channel]: { user_count: 2 } } });
});

test('events: info=user_count,subscription_count gives user_count for presence and subscription_count for other channels', async () => {
  const presence = uniq('presence-mixed-');
  const plain = uniq('mixed-');
  await presenceMember(presence, 'u1');
  await listener(plain);
  const res = await sdkResult(sdk().trigger([presence, plain], 'e', {}, { info: 'user_count,subscription_count' }));
  assert.equal(res.status, 200, res.body);
  // Pusher documents subscription_count on presence channels in one place and excludes it in
  // another (protocol.md §2.2): only user_count is asserted for presence.
  assert.equal(res.json.channels[presence].user_count, 1);
  assert.deepEqual(res.json.channels[plain], { subscription_count: 1 });
});

test('events: without info the answer is {} and the Content-Length header is set', async () => {
  const res = await signedRequest(server, { path: eventsPath(), body: { name: 'e', channel: uniq('c-'), data: '{}' } });
  assertHttpOk(res, {});
  assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(res.body)));
});

test('events: more than 100 channels are refused with 400 and nothing is delivered', async () => {
  const channel = uniq('many-');
  const ws = await listener(channel);
  const channels = [channel, ...Array.from({ length: 100 }, (_, i) => `${channel}-${i}`)];
  const res = await signedRequest(server, { path: eventsPath(), body: { name: 'too-many', channels, data: '{}' } });
  assertHttpError(res, 400);
  await assertNothingDelivered(ws, channel, 'too-many');
});

test('events: exactly 100 channels are accepted', async () => {
  const channel = uniq('hundred-');
  const ws = await listener(channel);
  const channels = [channel, ...Array.from({ length: 99 }, (_, i) => `${channel}-${i}`)];
  assertHttpOk(await signedRequest(server, { path: eventsPath(), body: { name: 'hundred', channels, data: '{}' } }), {});
  await ws.nextEvent('hundred');
});

test('events: data over 10 KB gets 413 with a JSON message and is not delivered', async () => {
  const channel = uniq('big-');
  const ws = await listener(channel);
  const data = JSON.stringify({ blob: 'x'.repeat(11 * 1024) });
  const res = await signedRequest(server, { path: eventsPath(), body: { name: 'big', channel, data } });
  assertHttpError(res, 413);
  await assertNothingDelivered(ws, channel, 'big');
});

test('events: data of 9 KB is accepted and delivered intact', async () => {
  const channel = uniq('nine-');
  const ws = await listener(channel);
  const data = JSON.stringify({ blob: 'y'.repeat(9 * 1024) });
  assertHttpOk(await signedRequest(server, { path: eventsPath(), body: { name: 'nine', channel, data } }), {});
  assert.equal((await ws.nextEvent('nine')).data, data);
});

test('events: max_event_payload 1000 refuses 1100 bytes of data with 413 and accepts 900', async () => {
  const channel = uniq('cfg-');
  const ws = await listener(channel, smallPayload);
  const big = await signedRequest(smallPayload, {
    path: `/apps/${smallPayload.app.id}/events`,
    body: { name: 'big', channel, data: 'z'.repeat(1100) },
  });
  assertHttpError(big, 413);
  const ok = await signedRequest(smallPayload, {
    path: `/apps/${smallPayload.app.id}/events`,
    body: { name: 'fits', channel, data: 'z'.repeat(900) },
  });
  assertHttpOk(ok, {});
  await ws.nextEvent('fits');
  assert.deepEqual(ws.received('big'), []);
});

test('events: a malformed JSON body gets 400 with a JSON error', async () => {
  const res = await signedRequest(server, { path: eventsPath(), body: '{"name":"x","channel":' });
  assertHttpError(res, 400);
});

for (const [label, body] of [
  ['no name', { channel: 'ok-channel', data: '{}' }],
  ['no channel or channels', { name: 'e', data: '{}' }],
  ['an invalid channel name', { name: 'e', channel: 'bad channel!', data: '{}' }],
  ['an event name over 200 characters', { name: 'e'.repeat(201), channel: 'ok-channel', data: '{}' }],
  ['data that is not a string', { name: 'e', channel: 'ok-channel', data: { a: 1 } }],
]) {
  test(`events: a body with ${label} is refused with 400 or 422 and a JSON error`, async () => {
    const res = await signedRequest(server, { path: eventsPath(), body });
    assert.ok([400, 422].includes(res.status), `HTTP ${res.status}: ${res.body}`);
    assertHttpError(res, res.status);
  });
}

test('events: a refused publish with an invalid channel among valid ones delivers nothing', async () => {
  const channel = uniq('partial-');
  const ws = await listener(channel);
  const res = await signedRequest(server, {
    path: eventsPath(),
    body: { name: 'partial', channels: [channel, 'bad channel!'], data: '{}' },
  });
  assert.ok([400, 422].includes(res.status), `HTTP ${res.status}: ${res.body}`);
  await assertNothingDelivered(ws, channel, 'partial');
});

test('an unknown app id gets 404 with a JSON error', async () => {
  const res = await signedRequest(server, {
    path: '/apps/no-such-app/events',
    body: { name: 'e', channel: 'c', data: '{}' },
  });
  assertHttpError(res, 404);
});

test('an unknown endpoint under /apps/{id}/ gets 404', async () => {
  const res = await signedRequest(server, { method: 'GET', path: `/apps/${APP().id}/no-such-endpoint` });
  assertHttpError(res, 404);
});

// ---------------------------------------------------------------------------------------------
// POST /batch_events

test('batch_events: every event of the batch is delivered to its own channel, answered 200', async () => {
  const [a, b] = [uniq('batch-a-'), uniq('batch-b-')];
  const wa = await listener(a);
  const wb = await listener(b);
  const res = await sdkResult(
    sdk().triggerBatch([
      { channel: a, name: 'first', data: { n: 1 } },
      { channel: b, name: 'second', data: { n: 2 } },
    ]),
  );
  assert.equal(res.status, 200, res.body);
  // Pusher answers {}; Reverb answers {"batch":{}} (protocol.md §2.2): both accepted.
  assert.ok(
    JSON.stringify(res.json) === '{}' || JSON.stringify(res.json) === '{"batch":{}}',
    `batch answer without info: ${res.body}`,
  );
  assert.deepEqual(await wa.nextEvent('first'), { event: 'first', channel: a, data: '{"n":1}' });
  assert.deepEqual(await wb.nextEvent('second'), { event: 'second', channel: b, data: '{"n":2}' });
});

test('batch_events: info is answered index-aligned in "batch"', async () => {
  const a = uniq('batch-info-');
  const p = uniq('presence-batch-');
  await listener(a);
  await presenceMember(p, 'u1');
  const res = await sdkResult(
    sdk().triggerBatch([
      { channel: a, name: 'one', data: {}, info: 'subscription_count' },
      { channel: a, name: 'two', data: {} },
      { channel: p, name: 'three', data: {}, info: 'user_count' },
    ]),
  );
  assertHttpOk(res, { batch: [{ subscription_count: 1 }, {}, { user_count: 1 }] });
});

test('batch_events: a per-event socket_id excludes that connection for that event only', async () => {
  const channel = uniq('batch-excl-');
  const ws = await listener(channel);
  const res = await sdkResult(
    sdk().triggerBatch([
      { channel, name: 'skipped', data: {}, socket_id: ws.socketId },
      { channel, name: 'kept', data: {} },
    ]),
  );
  assert.equal(res.status, 200, res.body);
  await ws.nextEvent('kept');
  assert.deepEqual(ws.received('skipped'), []);
});

test('batch_events: a batch of 11 events is refused and none is delivered', async () => {
  const channel = uniq('batch-11-');
  const ws = await listener(channel);
  const batch = Array.from({ length: 11 }, (_, i) => ({ channel, name: `eleven-${i}`, data: '{}' }));
  const res = await signedRequest(server, { path: batchPath(), body: { batch } });
  assert.ok([400, 413, 422].includes(res.status), `HTTP ${res.status}: ${res.body}`);
  assertHttpError(res, res.status);
  await publish(server, { channel, name: 'sentinel', data: 'ok' });
  await ws.nextEvent('sentinel');
  assert.deepEqual(
    ws.frames.filter((f) => f.event.startsWith('eleven-')),
    [],
    'a refused batch delivered some of its events',
  );
});

test('batch_events: a batch of 10 events is accepted', async () => {
  const channel = uniq('batch-10-');
  const ws = await listener(channel);
  const batch = Array.from({ length: 10 }, (_, i) => ({ channel, name: `ten-${i}`, data: '{}' }));
  assert.equal((await signedRequest(server, { path: batchPath(), body: { batch } })).status, 200);
  await ws.nextEvent('ten-9');
  assert.equal(ws.frames.filter((f) => f.event.startsWith('ten-')).length, 10);
});

test('batch_events: one invalid event refuses the whole batch (all or nothing)', async () => {
  const channel = uniq('batch-bad-');
  const ws = await listener(channel);
  const batch = [
    { channel, name: 'valid-first', data: '{}' },
    { channel: 'bad channel!', name: 'invalid', data: '{}' },
  ];
  const res = await signedRequest(server, { path: batchPath(), body: { batch } });
  assert.ok([400, 422].includes(res.status), `HTTP ${res.status}: ${res.body}`);
  assertHttpError(res, res.status);
  await assertNothingDelivered(ws, channel, 'valid-first');
});

test('batch_events: an oversized data in one event refuses the whole batch with 413', async () => {
  const channel = uniq('batch-big-');
  const ws = await listener(channel);
  const batch = [
    { channel, name: 'small-first', data: '{}' },
    { channel, name: 'huge', data: 'h'.repeat(11 * 1024) },
  ];
  const res = await signedRequest(server, { path: batchPath(), body: { batch } });
  assertHttpError(res, 413);
  await assertNothingDelivered(ws, channel, 'small-first');
});

// ---------------------------------------------------------------------------------------------
// GET /channels, /channels/{name}, /channels/{name}/users

test('channels: filter_by_prefix lists occupied channels only, each as {}', async () => {
  const prefix = uniq('list-');
  await listener(`${prefix}-a`);
  await listener(`${prefix}-b`);
  const gone = await listener(`${prefix}-c`);
  await gone.close();
  await listener(uniq('other-'));
  // the close is processed asynchronously: poll until the vacated channel disappears (bounded)
  let res;
  const deadline = Date.now() + 3000;
  do {
    res = await get('/channels', { filter_by_prefix: prefix });
    assert.equal(res.status, 200, res.body);
  } while (res.json.channels[`${prefix}-c`] && Date.now() < deadline);
  assert.deepEqual(res.json, { channels: { [`${prefix}-a`]: {}, [`${prefix}-b`]: {} } });
});

test('channels: info=user_count with filter_by_prefix=presence- gives distinct user counts', async () => {
  const tag = uniq('');
  const p1 = `presence-${tag}-one`;
  const p2 = `presence-${tag}-two`;
  await presenceMember(p1, 'u1');
  await presenceMember(p1, 'u1');
  await presenceMember(p1, 'u2');
  await presenceMember(p2, 'u3');
  const res = await get('/channels', { filter_by_prefix: `presence-${tag}`, info: 'user_count' });
  assertHttpOk(res, { channels: { [p1]: { user_count: 2 }, [p2]: { user_count: 1 } } });
});

test('channels: info=user_count without a presence- prefix filter is refused with 400', async () => {
  const res = await signedRequest(server, { method: 'GET', path: `/apps/${APP().id}/channels`, query: { info: 'user_count' } });
  assertHttpError(res, 400);
});

test('channel: an occupied channel answers occupied and subscription_count', async () => {
  const channel = uniq('one-');
  await listener(channel);
  await listener(channel);
  const res = await get(`/channels/${channel}`, { info: 'subscription_count' });
  assertHttpOk(res, { occupied: true, subscription_count: 2 });
});

test('channel: an unoccupied channel answers {"occupied":false}', async () => {
  const res = await get(`/channels/${uniq('nobody-')}`);
  assertHttpOk(res, { occupied: false });
});

test('channel: a presence channel answers user_count as distinct users', async () => {
  const channel = uniq('presence-one-');
  await presenceMember(channel, 'u1');
  await presenceMember(channel, 'u1');
  await presenceMember(channel, 'u2');
  const res = await get(`/channels/${channel}`, { info: 'user_count' });
  assertHttpOk(res, { occupied: true, user_count: 2 });
});

test('channel: info=user_count on a non-presence channel is refused with 400', async () => {
  const channel = uniq('not-presence-');
  await listener(channel);
  assertHttpError(await get(`/channels/${channel}`, { info: 'user_count' }), 400);
});

test('channel: info=cache on a cache channel returns the cached event', async () => {
  const channel = uniq('cache-info-');
  await listener(channel);
  const marker = uniq('cached-');
  await publish(server, { channel, name: 'cached-event', data: JSON.stringify({ marker }) });
  const res = await get(`/channels/${channel}`, { info: 'cache' });
  assert.equal(res.status, 200, res.body);
  assert.equal(res.json.occupied, true);
  // Pusher documents {"data":…,"ttl":…}; Reverb returns the raw payload (protocol.md §1.10):
  // asserted here is only that the cached data is in "cache".
  assert.ok(res.json.cache && typeof res.json.cache === 'object', res.body);
  assert.ok(JSON.stringify(res.json.cache).includes(marker), `cache does not hold the last event: ${res.body}`);
});

test('users: a presence channel lists distinct users as {"users":[{"id":…}]}', async () => {
  const channel = uniq('presence-users-');
  await presenceMember(channel, 'u1');
  await presenceMember(channel, 'u1');
  await presenceMember(channel, 'u2');
  const res = await get(`/channels/${channel}/users`);
  assert.equal(res.status, 200, res.body);
  const ids = res.json.users.map((u) => String(u.id)).sort();
  assert.deepEqual(ids, ['u1', 'u2']);
});

test('users: a non-presence channel is refused with 400', async () => {
  const channel = uniq('public-users-');
  await listener(channel);
  assertHttpError(await get(`/channels/${channel}/users`), 400);
});

// ---------------------------------------------------------------------------------------------
// GET /connections (Reverb), POST /users/{id}/terminate_connections

test('connections: answers {"connections":N} with the number of open connections of the app', async () => {
  const read = async () => {
    const res = await sdkResult(createPublisher(counting).get({ path: '/connections' }));
    assert.equal(res.status, 200, res.body);
    return res.json.connections;
  };
  const before = await read();
  const a = await RawClient.connect(counting);
  await RawClient.connect(counting);
  assert.equal(await read(), before + 2);
  await a.close();
  // the close is processed asynchronously: poll (bounded)
  const deadline = Date.now() + 3000;
  let n;
  while ((n = await read()) !== before + 1 && Date.now() < deadline);
  assert.equal(n, before + 1);
});

test('terminate_connections: SDK terminateUserConnections closes every connection of that user only', async () => {
  const user = uniq('doomed-');
  const other = uniq('spared-');
  const conns = [];
  for (const id of [user, user, other]) {
    const ws = await RawClient.connect(server);
    assert.equal((await ws.signin({ id }, server.app)).event, 'pusher:signin_success');
    conns.push(ws);
  }
  const res = await sdkResult(sdk().terminateUserConnections(user));
  assertHttpOk(res, {});
  await conns[0].waitClose();
  await conns[1].waitClose();
  await conns[2].ping();
  assert.equal(conns[2].closed, null);
});

test('terminate_connections: a pusher-js client signed in as that user is disconnected', async () => {
  const user = uniq('doomed-js-');
  const client = await connectPusher(server, { user: { id: user } });
  client.signin();
  await nextMessage(client, (m) => m.event === 'pusher:signin_success', { what: 'pusher:signin_success' });
  const left = new Promise((res) =>
    client.connection.bind('state_change', ({ previous }) => previous === 'connected' && res()),
  );
  assertHttpOk(await sdkResult(sdk().terminateUserConnections(user)), {});
  await withTimeout(left, 3000, 'pusher-js to leave the connected state');
});

test('terminate_connections without a user id answers 400 and the server keeps serving', async () => {
  // Signed by hand: the SDKs refuse an empty user id before sending.
  const res = await signedRequest(server, { path: `/apps/${APP().id}/users/terminate_connections`, body: {} });
  assertHttpError(res, 400);
  const channel = uniq('after-terminate-');
  const ws = await listener(channel);
  assertHttpOk(await sdkResult(sdk().trigger(channel, 'still-alive', { ok: true })), {});
  const msg = await ws.next((m) => m.event === 'still-alive');
  assert.equal(msg.channel, channel);
  assert.equal((await httpRequest(server, { path: '/pogo/health' })).status, 200);
});

// ---------------------------------------------------------------------------------------------
// Health

test('GET /up answers 200 {"health":"OK"} without authentication', async () => {
  const res = await httpRequest(server, { path: '/up' });
  assertHttpOk(res, { health: 'OK' });
});

test('GET /pogo/health answers 200 without authentication', async () => {
  const res = await httpRequest(server, { path: '/pogo/health' });
  assert.equal(res.status, 200, res.body);
});

// ---------------------------------------------------------------------------------------------
// Authentication edge cases

test('a request timestamped 601 s in the past is refused with 401 and not delivered', async () => {
  const channel = uniq('old-');
  const ws = await listener(channel);
  const res = await signedRequest(server, {
    path: eventsPath(),
    body: { name: 'stale', channel, data: '{}' },
    timestamp: Math.floor(Date.now() / 1000) - 601,
  });
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'stale');
});

test('a request timestamped 601 s in the future is refused with 401', async () => {
  const res = await signedRequest(server, {
    path: eventsPath(),
    body: { name: 'future', channel: uniq('f-'), data: '{}' },
    timestamp: Math.floor(Date.now() / 1000) + 601,
  });
  assertHttpError(res, 401);
});

test('requests timestamped 590 s in the past or future are accepted', async () => {
  for (const delta of [-590, 590]) {
    const res = await signedRequest(server, {
      path: eventsPath(),
      body: { name: 'in-window', channel: uniq('w-'), data: '{}' },
      timestamp: Math.floor(Date.now() / 1000) + delta,
    });
    assertHttpOk(res, {});
  }
});

test('a body_md5 that does not match the body is refused with 401 even if the signature covers it', async () => {
  const channel = uniq('md5-');
  const ws = await listener(channel);
  const res = await signedRequest(server, {
    path: eventsPath(),
    body: { name: 'md5-mismatch', channel, data: '{}' },
    bodyMd5: 'ec365a775a4cd0599faeb73354201b6f',
  });
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'md5-mismatch');
});

test('a non-empty body without body_md5 is refused with 401', async () => {
  const channel = uniq('nomd5-');
  const ws = await listener(channel);
  const res = await signedRequest(server, {
    path: eventsPath(),
    body: { name: 'no-md5', channel, data: '{}' },
    bodyMd5: null,
  });
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'no-md5');
});

test('a GET whose query parameters were changed after signing is refused with 401', async () => {
  const path = `/apps/${APP().id}/channels`;
  const timestamp = String(Math.floor(Date.now() / 1000));
  const signature = signParams({
    method: 'GET',
    path,
    params: { auth_key: APP().key, auth_timestamp: timestamp, auth_version: '1.0', filter_by_prefix: 'public-' },
    secret: APP().secret,
  });
  // same signature, different filter
  const res = await signedRequest(server, { method: 'GET', path, timestamp, signature, query: { filter_by_prefix: 'presence-' } });
  assertHttpError(res, 401);
  // and the untampered request passes, so the refusal is about the change
  assertHttpOk(await signedRequest(server, { method: 'GET', path, timestamp, signature, query: { filter_by_prefix: 'public-' } }));
});

test('under a path prefix, /some/prefix/apps/{id}/events signed as the SDK signs it (/apps/{id}/events) is accepted and delivered', async () => {
  const channel = uniq('prefixed-');
  const ws = await listener(channel);
  const res = await signedRequest(server, {
    path: `/some/prefix${eventsPath()}`,
    signPath: eventsPath(),
    body: { name: 'via-prefix', channel, data: '{"p":1}' },
  });
  assertHttpOk(res, {});
  assert.deepEqual(await ws.nextEvent('via-prefix'), { event: 'via-prefix', channel, data: '{"p":1}' });
});

test('under a path prefix, a wrong signature is still refused with 401', async () => {
  const res = await signedRequest(server, {
    path: `/some/prefix${eventsPath()}`,
    signPath: eventsPath(),
    secret: 'wrong',
    body: { name: 'x', channel: uniq('p-'), data: '{}' },
  });
  assertHttpError(res, 401);
});

test('GET requests with query parameters are signed over the sorted query and accepted', async () => {
  const prefix = uniq('q-');
  await listener(`${prefix}x`);
  const res = await signedRequest(server, {
    method: 'GET',
    path: `/apps/${APP().id}/channels`,
    query: { filter_by_prefix: prefix },
  });
  assertHttpOk(res, { channels: { [`${prefix}x`]: {} } });
});
