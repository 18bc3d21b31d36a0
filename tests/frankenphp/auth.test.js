// Issue 5, item 4: the PHP auth-worker pool. bin/frankenphp runs fixtures/auth.php as a pool of
// FrankenPHP extension workers; pusher-js authorises through auth_path, a subscribe without
// `auth` is authorised through the same script (the fallback), and a misbehaving script is
// refused cleanly without holding up other connections; calls beyond max_concurrent_auth are
// refused at once. The engine checks every signature.

import { test, describe, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { mkdtempSync, rmSync, writeFileSync, existsSync, watch } from 'node:fs';
import { tmpdir } from 'node:os';
import Pusher from 'pusher-js';
import { useFrankenPHP, startFrankenPHP, ROOT_DIR } from './support/frankenphp.js';
import { freePort, useProcess } from '../support/server.js';
import { RawClient, connected, subscribe, subscribed, subscriptionError, closeAllClients, uniq, withTimeout, deferred } from '../support/clients.js';

const SCRIPT = join(ROOT_DIR, 'tests', 'frankenphp', 'fixtures', 'auth.php');
const MATCHER = '/app/* /apps/* /up /pogo/health /pogo/auth*';

function authOptions(extra = []) {
  return [
    `auth_script ${SCRIPT}`,
    'num_workers 3',
    'auth_path /pogo/auth',
    'user_auth_path /pogo/auth/user',
    'auth_timeout 500ms',
    ...extra,
  ];
}

// pusher-js that authorises through the server's auth endpoints as user `user`.
function pusherThroughEndpoint(server, user) {
  const headers = { Authorization: `Bearer ${user}` };
  const client = new Pusher(server.app.key, {
    wsHost: server.host,
    wsPort: server.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: 'mt1',
    disableStats: true,
    channelAuthorization: { endpoint: `${server.url}/pogo/auth`, transport: 'ajax', headers },
    userAuthentication: { endpoint: `${server.url}/pogo/auth/user`, transport: 'ajax', headers },
  });
  return client;
}

async function post(server, path, body, headers = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    body,
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, body: await res.text() };
}

async function rawClient(server, cookie) {
  return RawClient.connect(server, { headers: cookie ? { Cookie: cookie } : {} });
}

describe('auth workers', () => {
  const server = useFrankenPHP({ options: authOptions(['auth_breaker_failures 1000']), matcher: MATCHER });

  test('pusher-js subscribes to private and presence channels through auth_path', async () => {
    const client = pusherThroughEndpoint(server, 'alice');
    try {
      await connected(client);
      await subscribe(client, uniq('private-orders-'), 5000);
      const presence = await subscribe(client, uniq('presence-room-'), 5000);
      assert.equal(presence.members.me.id, 'alice');
      assert.deepEqual(presence.members.me.info, { name: 'Alice' });
    } finally {
      client.disconnect();
    }
  });

  test('user_auth_path signs users in for pusher:signin', async () => {
    const c = await rawClient(server);
    const res = await post(server, '/pogo/auth/user', `socket_id=${c.socketId}`, { cookie: 'session=carol' });
    assert.equal(res.status, 200, res.body);
    const { auth, user_data } = JSON.parse(res.body);
    c.send({ event: 'pusher:signin', data: { auth, user_data } });
    const reply = await c.next((f) => f.event === 'pusher:signin_success' || f.event === 'pusher:error');
    assert.equal(reply.event, 'pusher:signin_success', JSON.stringify(reply));
  });

  test('auth_path passes the script status through and maps failures', async () => {
    const form = 'socket_id=1.2&channel_name=private-a';
    assert.equal((await post(server, '/pogo/auth', form)).status, 403, 'no session: the script answers 403');
    const ok = await post(server, '/pogo/auth', form, { cookie: 'session=alice' });
    assert.equal(ok.status, 200, ok.body);
    assert.match(JSON.parse(ok.body).auth, /^app-key:[0-9a-f]{64}$/);
    const slow = await post(server, '/pogo/auth', 'socket_id=1.2&channel_name=private-sleep', { cookie: 'session=alice' });
    assert.equal(slow.status, 504, slow.body);
    const thrown = await post(server, '/pogo/auth', 'socket_id=1.2&channel_name=private-throw', { cookie: 'session=alice' });
    assert.equal(thrown.status, 502, thrown.body);
    const garbage = await post(server, '/pogo/auth', 'socket_id=1.2&channel_name=private-garbage', { cookie: 'session=alice' });
    assert.equal(garbage.status, 502, garbage.body);
    const big = await post(server, '/pogo/auth', `socket_id=1.2&channel_name=${'x'.repeat(70_000)}`, { cookie: 'session=alice' });
    assert.equal(big.status, 413, big.body);
    const get = await fetch(`${server.url}/pogo/auth`, { signal: AbortSignal.timeout(5000) });
    assert.equal(get.status, 405);
  });

  test('a raw subscribe without auth is authorised by the fallback with the connection cookie', async () => {
    const c = await rawClient(server, 'session=bob');
    const priv = uniq('private-fallback-');
    assert.equal((await c.subscribe(priv, { timeout: 5000 })).event, 'pusher_internal:subscription_succeeded');
    const room = uniq('presence-fallback-');
    const reply = await c.subscribe(room, { timeout: 5000 });
    assert.equal(reply.event, 'pusher_internal:subscription_succeeded', JSON.stringify(reply));
    const data = typeof reply.data === 'string' ? JSON.parse(reply.data) : reply.data;
    assert.deepEqual(data.presence.ids, ['bob']);
  });

  test('a subscribe without auth and without a session is refused', async () => {
    const c = await rawClient(server);
    const reply = await c.subscribe(uniq('private-nosession-'), { timeout: 5000 });
    assert.equal(reply.event, 'pusher:subscription_error', JSON.stringify(reply));
  });

  for (const mode of ['throw', 'garbage', 'wrong', 'sleep', 'exit', 'forbidden']) {
    test(`a script that misbehaves (${mode}) is refused; other connections are unaffected`, async () => {
      const bad = await rawClient(server, 'session=mallory');
      const pending = bad.subscribe(uniq(`private-${mode}-`), { timeout: 5000 });

      // Meanwhile another connection is served: pings, public and authorised subscribes.
      const other = await rawClient(server, 'session=bob');
      assert.equal((await other.subscribe(uniq('public-'))).event, 'pusher_internal:subscription_succeeded');
      await other.ping();
      assert.equal((await other.subscribe(uniq('private-ok-'), { timeout: 5000 })).event, 'pusher_internal:subscription_succeeded');

      const reply = await pending;
      assert.equal(reply.event, 'pusher:subscription_error', JSON.stringify(reply));
      // The refused connection itself keeps working.
      await bad.ping();
    });
  }

  test('pusher-js gets a subscription_error for a refused channel', async () => {
    const client = pusherThroughEndpoint(server, 'alice');
    try {
      await connected(client);
      const err = await subscriptionError(client.subscribe(uniq('private-wrong-')), 5000);
      assert.ok(err, 'subscription_error');
    } finally {
      client.disconnect();
    }
  });
});

test('the breaker opens after repeated failures and recovers by itself, counted in auth_failures_total and circuit_breaker_open_total', async () => {
  const adminPort = await freePort();
  const server = await startFrankenPHP({
    options: authOptions(['auth_breaker_failures 2', 'auth_breaker_cooldown 1s']),
    matcher: MATCHER,
    adminPort,
  });
  try {
    const c = await rawClient(server, 'session=bob');
    for (let i = 0; i < 2; i++) {
      const thrown = await c.subscribe(uniq('private-throw-'), { timeout: 5000 });
      assert.equal(thrown.event, 'pusher:subscription_error');
      assert.equal(thrown.data?.status, 502, `a script that throws is a failure, not a refusal: ${JSON.stringify(thrown)}`);
    }
    // Open: even a valid request is refused at once.
    const refused = await post(server, '/pogo/auth', `socket_id=${c.socketId}&channel_name=private-a`, { cookie: 'session=bob' });
    assert.equal(refused.status, 503, refused.body);
    const open = await c.subscribe(uniq('private-open-'), { timeout: 5000 });
    assert.equal(open.event, 'pusher:subscription_error');
    assert.equal(open.data?.status, 503, `an open breaker answers 503: ${JSON.stringify(open)}`);
    assert.equal(await metric(adminPort, 'pogo_websocket_auth_failures_total{reason="worker_error"}'), 2);
    assert.equal(await metric(adminPort, 'pogo_websocket_circuit_breaker_open_total'), 2);

    // After the 1 s cooldown a probe goes through and closes the breaker: retry, paced, until a deadline.
    const deadline = Date.now() + 8000;
    for (;;) {
      const reply = await c.subscribe(uniq('private-recover-'), { timeout: 5000 });
      if (reply.event === 'pusher_internal:subscription_succeeded') break;
      if (Date.now() > deadline) assert.fail('the breaker did not close again');
      await new Promise((r) => setTimeout(r, 100));
    }
    const ok = await post(server, '/pogo/auth', `socket_id=${c.socketId}&channel_name=private-a`, { cookie: 'session=bob' });
    assert.equal(ok.status, 200, ok.body);
  } finally {
    await closeAllClients();
    await server.stop();
  }
});

test('after a reload the auth workers are registered again and the kept hub uses them', async () => {
  const adminPort = await freePort();
  const server = await startFrankenPHP({ options: authOptions(), matcher: MATCHER, adminPort });
  try {
    const before = await rawClient(server, 'session=bob');
    assert.equal((await before.subscribe(uniq('private-before-'), { timeout: 5000 })).event, 'pusher_internal:subscription_succeeded');

    // Same apps, other auth options: the hub and its connections stay, FrankenPHP restarts its
    // threads and the workers are registered again (twice: the first reload is special).
    await server.reload({ options: authOptions(['auth_timeout 2s']) });
    await server.reload({ options: authOptions(['auth_timeout 3s']) });
    const after = await rawClient(server, 'session=alice');
    assert.equal((await after.subscribe(uniq('private-after-'), { timeout: 5000 })).event, 'pusher_internal:subscription_succeeded');
    assert.equal((await before.subscribe(uniq('private-kept-'), { timeout: 5000 })).event, 'pusher_internal:subscription_succeeded');
    const res = await post(server, '/pogo/auth', `socket_id=${after.socketId}&channel_name=private-a`, { cookie: 'session=alice' });
    assert.equal(res.status, 200, res.body);
  } finally {
    await closeAllClients();
    await server.stop();
  }
});

// The fixture's `hold` mode: the script creates <channel>.held in HOLD_DIR once it runs, then
// waits (at most 10 s) until the test creates <channel>.release.
function holdControl(dir, channel) {
  const held = join(dir, `${channel}.held`);
  return {
    // Resolves once the call is inside PHP (watches the directory: no polling in the test).
    async inPHP(ms = 5000) {
      const d = deferred();
      const watcher = watch(dir, () => existsSync(held) && d.resolve());
      try {
        if (existsSync(held)) d.resolve();
        await withTimeout(d.promise, ms, `the auth script to hold ${channel}`);
      } finally {
        watcher.close();
      }
    },
    release() {
      writeFileSync(join(dir, `${channel}.release`), '');
    },
  };
}

// The value of one Prometheus sample on Caddy's admin endpoint (0 when absent).
async function metric(adminPort, sample) {
  const res = await fetch(`http://127.0.0.1:${adminPort}/metrics`, {
    // Caddy refuses browser-like requests (fetch sends Sec-Fetch-Mode) without an allowed Origin.
    headers: { origin: `http://127.0.0.1:${adminPort}` },
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : 0;
}

// One auth call at a time, three PHP workers: a free worker is always there, so a refusal comes
// from max_concurrent_auth. auth_timeout is 5 s, so a refusal well under a second is not a timeout.
describe('max_concurrent_auth 1 with three workers', () => {
  const HOLD_DIR = mkdtempSync(join(tmpdir(), 'pogo-auth-hold-'));
  const PROMPT_MS = 1000;
  const AUTH_TIMEOUT_MS = 5000;
  const adminPort = { value: 0 };
  const server = useProcess(async () => {
    adminPort.value = await freePort();
    return startFrankenPHP({
      options: authOptions(['max_concurrent_auth 1', `auth_timeout ${AUTH_TIMEOUT_MS}ms`, 'auth_breaker_failures 1000']),
      matcher: MATCHER,
      adminPort: adminPort.value,
      env: { POGO_AUTH_HOLD_DIR: HOLD_DIR },
    });
  });
  after(() => rmSync(HOLD_DIR, { recursive: true, force: true }));

  test('auth_path answers 503 at once while another call is held in PHP, and 200 once it returns', async () => {
    const holder = pusherThroughEndpoint(server, 'alice');
    const other = pusherThroughEndpoint(server, 'bob');
    const heldName = uniq('private-hold-');
    const held = holdControl(HOLD_DIR, heldName);
    try {
      await Promise.all([connected(holder), connected(other)]);
      const concurrencyBefore = await metric(adminPort.value, 'pogo_websocket_auth_failures_total{reason="concurrency_limit"}');
      const heldChannel = holder.subscribe(heldName);
      const heldSubscribed = subscribed(heldChannel, AUTH_TIMEOUT_MS);
      heldSubscribed.catch(() => {}); // awaited below; not unhandled if an assertion fails first
      await held.inPHP();

      const started = Date.now();
      const err = await subscriptionError(other.subscribe(uniq('private-busy-')), AUTH_TIMEOUT_MS);
      const elapsed = Date.now() - started;
      assert.equal(err.status, 503, JSON.stringify(err));
      assert.ok(elapsed < PROMPT_MS, `refused after ${elapsed} ms, not at once (auth_timeout is ${AUTH_TIMEOUT_MS} ms)`);
      const raw = await post(server, '/pogo/auth', `socket_id=${other.connection.socket_id}&channel_name=private-a`, { cookie: 'session=bob' });
      assert.equal(raw.status, 503, raw.body);
      assert.deepEqual(JSON.parse(raw.body), { error: 'Too many authorisations in progress' });
      assert.equal(heldChannel.subscribed, false, 'the held call was still in flight when the others were refused');
      assert.equal(await metric(adminPort.value, 'pogo_websocket_auth_failures_total{reason="concurrency_limit"}'), concurrencyBefore + 2);

      held.release();
      await heldSubscribed;
      await subscribe(other, uniq('private-after-'), AUTH_TIMEOUT_MS);
      const ok = await post(server, '/pogo/auth', `socket_id=${other.connection.socket_id}&channel_name=private-a`, { cookie: 'session=bob' });
      assert.equal(ok.status, 200, ok.body);
    } finally {
      held.release();
      holder.disconnect();
      other.disconnect();
    }
  });

  test('a subscribe without auth gets subscription_error at once while another is held in PHP, counted as failed', async () => {
    const holder = await rawClient(server, 'session=alice');
    const other = await rawClient(server, 'session=bob');
    const heldName = uniq('private-hold-');
    const held = holdControl(HOLD_DIR, heldName);
    const failed = 'pogo_websocket_auth_fallback_total{outcome="failed"}';
    const answered = 'pogo_websocket_auth_fallback_total{outcome="answered"}';
    try {
      const failedBefore = await metric(adminPort.value, failed);
      const answeredBefore = await metric(adminPort.value, answered);
      const heldReply = holder.subscribe(heldName, { timeout: AUTH_TIMEOUT_MS });
      heldReply.catch(() => {}); // awaited below; not unhandled if an assertion fails first
      await held.inPHP();

      const started = Date.now();
      const reply = await other.subscribe(uniq('private-busy-'), { timeout: AUTH_TIMEOUT_MS });
      const elapsed = Date.now() - started;
      assert.equal(reply.event, 'pusher:subscription_error', JSON.stringify(reply));
      assert.equal(reply.data?.type, 'AuthError', JSON.stringify(reply));
      assert.equal(reply.data?.status, 503, `a busy pool is told apart from a refusal: ${JSON.stringify(reply)}`);
      assert.ok(elapsed < PROMPT_MS, `refused after ${elapsed} ms, not at once (auth_timeout is ${AUTH_TIMEOUT_MS} ms)`);
      assert.equal(await metric(adminPort.value, failed), failedBefore + 1);
      assert.deepEqual(holder.frames.filter((f) => f.channel === heldName), [], 'the held call was still in flight');

      held.release();
      assert.equal((await heldReply).event, 'pusher_internal:subscription_succeeded');
      const retried = await other.subscribe(uniq('private-after-'), { timeout: AUTH_TIMEOUT_MS });
      assert.equal(retried.event, 'pusher_internal:subscription_succeeded', JSON.stringify(retried));
      assert.equal(await metric(adminPort.value, answered), answeredBefore + 2);
      assert.equal(await metric(adminPort.value, failed), failedBefore + 1);
    } finally {
      held.release();
    }
  });
});
