// Issue 2: signed HTTP publish (POST /apps/{id}/events) as the pusher SDKs send it.
// Wrong credentials get 401 with a JSON body and deliver nothing.

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
  httpRequest,
  md5Hex,
  signParams,
  uniq,
} from './support/clients.js';
import { assertHttpError, assertHttpOk, assertSubscribed } from './support/assert.js';

const server = useServer();

// Subscribes a raw client to `channel` and returns it.
async function listener(channel) {
  const ws = await RawClient.connect(server);
  assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
  return ws;
}

// After a refused publish: a valid one on the same channel must arrive, the refused one not.
async function assertNothingDelivered(ws, channel, forbiddenEvent) {
  await createPublisher(server).trigger(channel, 'sentinel', 'ok');
  await ws.nextEvent('sentinel', { channel });
  assert.deepEqual(ws.received(forbiddenEvent), [], `a refused publish was delivered: ${JSON.stringify(ws.frames)}`);
}

test('an SDK trigger is answered 200 with a JSON {} body', async () => {
  const res = await sdkResult(createPublisher(server).trigger(uniq('ok-'), 'evt', { a: 1 }));
  assertHttpOk(res, {});
});

test('a publish signed with the wrong secret gets 401 with a JSON error body and is not delivered', async () => {
  const channel = uniq('secret-');
  const ws = await listener(channel);
  const bad = createPublisher(server, { app: { ...server.app, secret: 'wrong-secret' } });
  const res = await sdkResult(bad.trigger(channel, 'forged', { evil: true }));
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'forged');
});

test('pusher-js receives nothing from a publish with a wrong secret, then receives a valid one', async () => {
  const name = uniq('secret-js-');
  const client = await connectPusher(server);
  const ch = await subscribe(client, name);
  const bad = createPublisher(server, { app: { ...server.app, secret: 'wrong-secret' } });
  const res = await sdkResult(bad.trigger(name, 'forged', {}));
  assert.equal(res.status, 401, res.body);
  const ok = nextEvent(ch, 'genuine');
  await createPublisher(server).trigger(name, 'genuine', {});
  await ok;
  assert.ok(!client.received.some((m) => m.event === 'forged'));
});

test('a publish with an unknown auth_key gets 401', async () => {
  const channel = uniq('key-');
  const ws = await listener(channel);
  const res = await signedRequest(server, {
    path: `/apps/${server.app.id}/events`,
    body: { name: 'forged', channel, data: '{}' },
    authKey: 'not-the-key',
  });
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'forged');
});

test('a publish without auth_signature gets 401', async () => {
  const channel = uniq('nosig-');
  const ws = await listener(channel);
  const res = await signedRequest(server, {
    path: `/apps/${server.app.id}/events`,
    body: { name: 'forged', channel, data: '{}' },
    omit: ['auth_signature'],
  });
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'forged');
});

test('a publish with no auth parameters at all gets 401', async () => {
  const channel = uniq('noauth-');
  const ws = await listener(channel);
  const res = await httpRequest(server, {
    method: 'POST',
    path: `/apps/${server.app.id}/events`,
    body: JSON.stringify({ name: 'forged', channel, data: '{}' }),
    headers: { 'content-type': 'application/json' },
  });
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'forged');
});

test('a publish whose body was changed after signing (body_md5 of another body) gets 401', async () => {
  const channel = uniq('tamper-');
  const ws = await listener(channel);
  const signedBody = JSON.stringify({ name: 'innocent', channel, data: '{}' });
  const res = await signedRequest(server, {
    path: `/apps/${server.app.id}/events`,
    body: { name: 'forged', channel, data: '{}' },
    bodyMd5: md5Hex(signedBody),
  });
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'forged');
});

test('a signature with one flipped hex digit gets 401', async () => {
  const channel = uniq('flip-');
  const ws = await listener(channel);
  const ts = String(Math.floor(Date.now() / 1000));
  const body = JSON.stringify({ name: 'forged', channel, data: '{}' });
  const good = signParams({
    method: 'POST',
    path: `/apps/${server.app.id}/events`,
    params: { auth_key: server.app.key, auth_timestamp: ts, auth_version: '1.0', body_md5: md5Hex(body) },
    secret: server.app.secret,
  });
  const flipped = (good[0] === 'a' ? 'b' : 'a') + good.slice(1);
  const res = await signedRequest(server, { path: `/apps/${server.app.id}/events`, body, timestamp: ts, signature: flipped });
  assertHttpError(res, 401);
  await assertNothingDelivered(ws, channel, 'forged');
});

test('a hand-signed publish with "channel" (singular) is delivered', async () => {
  const channel = uniq('single-');
  const ws = await listener(channel);
  const res = await signedRequest(server, {
    path: `/apps/${server.app.id}/events`,
    body: { name: 'single', channel, data: '{"x":1}' },
  });
  assertHttpOk(res, {});
  const frame = await ws.nextEvent('single');
  assert.deepEqual(frame, { event: 'single', channel, data: '{"x":1}' });
});

test('a hand-signed publish with "channels" and "socket_id" is delivered to all but that socket', async () => {
  const channel = uniq('hand-');
  const a = await listener(channel);
  const b = await listener(channel);
  const res = await signedRequest(server, {
    path: `/apps/${server.app.id}/events`,
    body: { name: 'hand', channels: [channel], data: 'd', socket_id: a.socketId },
  });
  assertHttpOk(res, {});
  await b.nextEvent('hand');
  await assertNothingDelivered(a, channel, 'hand');
});
