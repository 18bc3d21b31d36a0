// Admission of a connection, as Reverb's app settings: `allowed_origins` (the Origin header's
// host must match a pattern, else pusher:error 4009 "Origin not allowed" and close 4009) and
// `max_connections` (pusher:error 4004 "Application is over connection quota" and close 4004).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import { RawClient, connectPusher } from './support/clients.js';

const GUARDED = { id: 'guarded', key: 'guarded-key', secret: 'guarded-secret', options: ['allowed_origins laravel.com *.example.test'] };
const SMALL = { id: 'small', key: 'small-key', secret: 'small-secret', options: ['max_connections 2'] };
const OPEN = { id: 'open', key: 'open-key', secret: 'open-secret' };
const server = useServer({ apps: [GUARDED, SMALL, OPEN] });

// Opens a connection to `app` with the Origin header `origin` (none when undefined) and resolves
// with its first frame and, when the server refused it, the close.
async function openWith(app, origin) {
  const ws = await RawClient.open(server, { key: app.key, headers: origin === undefined ? {} : { Origin: origin } });
  const first = await ws.next((f) => f.event === 'pusher:connection_established' || f.event === 'pusher:error');
  const closed = first.event === 'pusher:error' ? await ws.waitClose() : null;
  return { ws, first, closed };
}

function assertRefused({ first, closed }, code, message) {
  assert.equal(first.event, 'pusher:error', JSON.stringify(first));
  assert.deepEqual(first.data, { code, message });
  assert.equal(closed?.code, code);
}

test('allowed_origins admits an Origin whose host matches a pattern, whatever its scheme and port', async () => {
  for (const origin of ['https://laravel.com', 'http://laravel.com:8000', 'https://app.example.test']) {
    const { first } = await openWith(GUARDED, origin);
    assert.equal(first.event, 'pusher:connection_established', `${origin}: ${JSON.stringify(first)}`);
  }
});

test('allowed_origins refuses another Origin, or none, with 4009 Origin not allowed', async () => {
  for (const origin of ['https://evil.test', 'https://laravel.com.evil.test', 'https://example.test', undefined]) {
    assertRefused(await openWith(GUARDED, origin), 4009, 'Origin not allowed');
  }
});

test('an app without allowed_origins admits any Origin and none (pusher-js in Node sends none)', async () => {
  assert.equal((await openWith(OPEN, 'https://anything.test')).first.event, 'pusher:connection_established');
  const js = await connectPusher(server, { app: OPEN });
  assert.equal(js.connection.state, 'connected');
});

test('max_connections refuses the connection over the quota with 4004, and admits one again once a slot frees', async () => {
  const a = await openWith(SMALL);
  const b = await openWith(SMALL);
  for (const c of [a, b]) assert.equal(c.first.event, 'pusher:connection_established');
  assertRefused(await openWith(SMALL), 4004, 'Application is over connection quota');

  await a.ws.close();
  // The server forgets the closed connection in its next batch: retry, bounded.
  const deadline = Date.now() + 3000;
  let again;
  do {
    again = await openWith(SMALL);
  } while (again.first.event !== 'pusher:connection_established' && Date.now() < deadline);
  assert.equal(again.first.event, 'pusher:connection_established', JSON.stringify(again.first));
  assert.equal((await openWith(OPEN)).first.event, 'pusher:connection_established', 'other apps are not counted');
});
