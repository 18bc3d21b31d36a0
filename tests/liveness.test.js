// Issue 3 item 10: the server pings idle connections (ping_period) and closes those that stay
// silent (pong_wait) with 4201; WebSocket ping frames are answered and count as activity.
//
// Timing: ping_period 1s, pong_wait 2s, and the host ticks once per second, so a silent
// connection must be closed within about 3-4 s. "Still open" is judged against a clock: a silent
// connection opened *after* the one under test being closed with 4201.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import { RawClient, connectPusher, withTimeout } from './support/clients.js';
import { assertPusherError } from './support/assert.js';

const server = useServer({ options: ['ping_period 1s', 'pong_wait 2s', 'activity_timeout 7s'] });
const CLOSE_WITHIN = 6000;

// A raw client that answers nothing: no pusher:pong, no WebSocket pong.
const silent = () => RawClient.connect(server, { autoPong: false });

// A raw client that answers the server's pusher:ping with pusher:pong (and WS pings with pongs).
async function responsive() {
  const ws = await RawClient.connect(server);
  ws.ws.on('message', (buf) => {
    try {
      if (JSON.parse(buf.toString()).event === 'pusher:ping') ws.send({ event: 'pusher:pong', data: {} });
    } catch {
      // not JSON
    }
  });
  return ws;
}

test('the handshake announces the configured activity_timeout (7 s)', async () => {
  const ws = await RawClient.connect(server);
  assert.equal(ws.established.activity_timeout, 7);
});

test('a silent connection is pinged by the server after ping_period (pusher:ping or a WebSocket ping frame)', async () => {
  const ws = await silent();
  await withTimeout(
    new Promise((resolve) => {
      const check = () => {
        if (ws.pings > 0 || ws.frames.some((f) => f.event === 'pusher:ping')) resolve();
      };
      ws.ws.on('ping', check);
      ws.ws.on('message', check);
      check();
    }),
    CLOSE_WITHIN,
    'a server ping',
  );
});

test('a connection that never answers is closed with code 4201 after pong_wait', async () => {
  const ws = await silent();
  const opened = Date.now();
  const closed = await ws.waitClose(CLOSE_WITHIN);
  assert.equal(closed.code, 4201, `close code ${closed.code} ${closed.reason}`);
  assert.ok(Date.now() - opened >= 1500, 'closed before pong_wait (2 s) could have elapsed');
  const errors = ws.received('pusher:error');
  if (errors.length) assertPusherError(errors[0], 4201);
});

test('a connection that answers pusher:ping with pusher:pong stays open', async () => {
  const ws = await responsive();
  const clock = await silent();
  await clock.waitClose(CLOSE_WITHIN);
  await ws.ping();
  assert.equal(ws.closed, null);
});

test('pusher-js stays connected across several ping periods', async () => {
  const client = await connectPusher(server);
  const changes = [];
  client.connection.bind('state_change', (s) => changes.push(s));
  const clock = await silent();
  await clock.waitClose(CLOSE_WITHIN);
  assert.equal(client.connection.state, 'connected');
  assert.deepEqual(changes, [], 'pusher-js lost its connection');
});

test('a WebSocket ping frame is answered with a pong frame', async () => {
  const ws = await RawClient.connect(server);
  await ws.wsPing();
  await ws.wsPing();
});

test('WebSocket ping frames count as activity: a client that only sends ping frames is not closed', async () => {
  const ws = await silent();
  const clock = await silent();
  const timer = setInterval(() => {
    if (!ws.closed) ws.ws.ping();
  }, 300);
  try {
    await clock.waitClose(CLOSE_WITHIN);
    await ws.ping();
    assert.equal(ws.closed, null);
  } finally {
    clearInterval(timer);
  }
});

test('a pusher:pong sent by the client is accepted silently', async () => {
  const ws = await RawClient.connect(server);
  const before = ws.frames.length;
  ws.send({ event: 'pusher:pong', data: {} });
  const pong = await ws.ping();
  assert.deepEqual(ws.frames.slice(before), [pong], 'pusher:pong must not be answered');
});
