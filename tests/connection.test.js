// Issue 2 (handshake, ping, unknown key) and issue 3 item 9 (bad frames keep the connection usable).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import { RawClient, connectPusher, createPusher, nextConnectionError, stateBecomes, parseMaybe } from './support/clients.js';
import { assertPusherError } from './support/assert.js';

const server = useServer();

test('the first frame is pusher:connection_established with a socket_id like 123.456 and a positive activity_timeout', async () => {
  const ws = await RawClient.open(server);
  const frame = await ws.next(() => true, { what: 'the first frame' });
  assert.equal(frame.event, 'pusher:connection_established', JSON.stringify(frame));
  assert.equal(typeof frame.data, 'string', 'handshake data must be a JSON-encoded string');
  const data = JSON.parse(frame.data);
  assert.match(data.socket_id, /^\d+\.\d+$/);
  assert.ok(Number.isInteger(data.activity_timeout) && data.activity_timeout > 0, `activity_timeout: ${data.activity_timeout}`);
});

test('the handshake announces the default activity_timeout of 54 s (Caddyfile.example)', async () => {
  const ws = await RawClient.connect(server);
  assert.equal(ws.established.activity_timeout, 54);
});

test('every connection gets a different socket_id', async () => {
  const ids = new Set();
  for (let i = 0; i < 5; i++) {
    const ws = await RawClient.connect(server);
    ids.add(ws.socketId);
  }
  assert.equal(ids.size, 5, `socket ids: ${[...ids].join(' ')}`);
});

test('pusher-js connects and exposes the socket_id from the handshake', async () => {
  const client = await connectPusher(server);
  assert.equal(client.connection.state, 'connected');
  assert.match(client.connection.socket_id, /^\d+\.\d+$/);
});

test('pusher:ping is answered with {"event":"pusher:pong","data":"{}"}', async () => {
  const ws = await RawClient.connect(server);
  ws.send({ event: 'pusher:ping', data: {} });
  const pong = await ws.nextEvent('pusher:pong');
  assert.deepEqual(pong, { event: 'pusher:pong', data: '{}' });
});

test('an unknown app key gets pusher:error 4001 and the socket is closed with code 4001', async () => {
  const ws = await RawClient.open(server, { key: 'no-such-key' });
  const frame = await ws.next(() => true, { what: 'the first frame' });
  assertPusherError(frame, 4001);
  const closed = await ws.waitClose();
  assert.equal(closed.code, 4001);
  assert.ok(!ws.frames.some((f) => f.event === 'pusher:connection_established'), 'no handshake for an unknown key');
});

test('pusher-js with an unknown app key reports error 4001 and does not reconnect', async () => {
  const client = createPusher(server, { app: { ...server.app, key: 'no-such-key' } });
  const err = await nextConnectionError(client, { code: 4001 });
  assert.equal(err.code, 4001);
  // 4001..4099 means "do not reconnect unchanged": pusher-js stops.
  await stateBecomes(client, ['disconnected', 'failed']);
  assert.notEqual(client.connection.state, 'connected');
});

test('invalid JSON gets pusher:error and the connection stays usable', async () => {
  const ws = await RawClient.connect(server);
  ws.send('{"event":"pusher:ping",');
  assertPusherError(await ws.nextEvent('pusher:error'));
  await ws.ping();
  assert.equal(ws.closed, null);
});

test('a frame without an event gets pusher:error and the connection stays usable', async () => {
  const ws = await RawClient.connect(server);
  ws.send({ data: { channel: 'x' } });
  assertPusherError(await ws.nextEvent('pusher:error'));
  await ws.ping();
  assert.equal(ws.closed, null);
});

test('an unknown pusher: event gets pusher:error and the connection stays usable', async () => {
  const ws = await RawClient.connect(server);
  ws.send({ event: 'pusher:no_such_event', data: {} });
  assertPusherError(await ws.nextEvent('pusher:error'));
  await ws.ping();
  assert.equal(ws.closed, null);
});

test('a JSON frame that is not an object (an array, a string) gets pusher:error and the connection stays usable', async () => {
  const ws = await RawClient.connect(server);
  ws.send('[1,2,3]');
  assertPusherError(await ws.nextEvent('pusher:error'));
  ws.send('"pusher:ping"');
  assertPusherError(await ws.nextEvent('pusher:error'));
  await ws.ping();
  assert.equal(ws.closed, null);
});

test('the handshake data carries exactly socket_id and activity_timeout', async () => {
  const ws = await RawClient.connect(server);
  const data = parseMaybe(ws.frames[0].data);
  assert.deepEqual(Object.keys(data).sort(), ['activity_timeout', 'socket_id']);
});
