// The documented Caddyfiles, whole, in bin/frankenphp: the docs page's (frankenphp { worker }
// global block, `order pogo_websocket before php_server`, auth_script and num_workers, the
// php_server route with `encode zstd br gzip`), the package page's and the first release's
// (Octane's, with its {$CADDY_*} placeholders). Each runs in an app directory with the
// public/frankenphp-worker.php and public/websocket-worker.php they name
// (fixtures/docs-app), and pusher-js connects through it.
//
// The Caddyfiles are verbatim copies (tests/fixtures/docs, see support/docs.js); the tests change
// only the listening port (:8080 → a free one). The admin endpoint, which the docs page leaves at
// its default, moves to a free port with CADDY_ADMIN, as Caddy allows.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, launch } from '../support/server.js';
import { RawClient, closeAllClients, connectPusher, nextEvent, subscribe, uniq } from '../support/clients.js';
import { documentedCaddyfile, pusherSendsOrigin, DOCUMENTED_ORIGIN } from '../support/docs.js';
import { FRANKENPHP } from './support/frankenphp.js';

pusherSendsOrigin();

const HERE = dirname(fileURLToPath(import.meta.url));
const SECRET = 'change-me-to-a-long-random-secret';
const servers = [];
const dirs = [];
afterEach(() => closeAllClients());
after(async () => {
  await closeAllClients();
  for (const s of servers) await s.stop();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

// An app directory with public/frankenphp-worker.php and public/websocket-worker.php.
function appDir() {
  const dir = mkdtempSync(join(tmpdir(), 'pogo-docs-app-'));
  cpSync(join(HERE, 'fixtures', 'docs-app'), dir, { recursive: true });
  dirs.push(dir);
  return dir;
}

async function start(name, text, { env = {}, port, adminPort }) {
  const dir = appDir();
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REVERB_')));
  const server = await launch({
    binary: FRANKENPHP,
    name: `bin/frankenphp (${name})`,
    port,
    text,
    cwd: dir,
    env: { ...clean, CADDY_ADMIN: `127.0.0.1:${adminPort}`, ...env },
    readyWithin: 30_000,
    // Ready once the Octane worker answers.
    async ready(url) {
      const res = await fetch(`${url}/ready`, { signal: AbortSignal.timeout(1000) });
      return res.status === 200 && (await res.text()).startsWith('worker: /ready');
    },
  });
  servers.push(server);
  server.adminPort = adminPort;
  server.dir = dir;
  return server;
}

async function metric(server, sample) {
  const res = await fetch(`http://127.0.0.1:${server.adminPort}/metrics`, {
    headers: { origin: `http://127.0.0.1:${server.adminPort}` },
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${sample} `));
  return line ? Number(line.slice(sample.length + 1)) : undefined;
}

// GET with Accept-Encoding; resolves with { status, encoding }.
function getEncoded(server, path, encoding) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port: server.port, path, agent: false, headers: { 'Accept-Encoding': encoding } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode, encoding: res.headers['content-encoding'] }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('no answer')));
  });
}

test('the docs page Caddyfile loads whole in bin/frankenphp: pusher-js connects with the app id as key, PHP publishes to it, auth_script authorises, br encodes', async () => {
  const port = await freePort();
  const text = documentedCaddyfile('docs-page').replace(':8080 {', `:${port} {`);
  const server = await start('docs page', text, {
    port,
    adminPort: await freePort(),
    env: { WS_APP_SECRET: SECRET, POGO_WEBHOOK_SECRET: 'change-me-to-a-different-random-secret' },
  });
  // VITE_POGO_APP_KEY="${WS_APP_ID}": the key is the app id.
  server.app = { id: 'pogo-app', key: 'pogo-app', secret: SECRET };

  const client = await connectPusher(server);
  const channel = await subscribe(client, uniq('orders-'));
  const got = nextEvent(channel, 'shipped');
  const res = await fetch(`${server.url}/publish?channel=${channel.name}&event=shipped&data=${encodeURIComponent('{"id":7}')}`);
  assert.deepEqual(await res.json(), { code: 0 });
  assert.deepEqual((await got).data, { id: 7 });

  // A subscribe without auth goes to the auth workers of auth_script (with the connection's cookie).
  const durationBefore = await metric(server, 'pogo_websocket_auth_duration_seconds_count');
  const raw = await RawClient.connect(server, { headers: { Origin: DOCUMENTED_ORIGIN, Cookie: 'session=alice' } });
  const ok = await raw.subscribe(uniq('private-orders-'), { timeout: 5000 });
  assert.equal(ok.event, 'pusher_internal:subscription_succeeded', JSON.stringify(ok));
  assert.equal(await metric(server, 'pogo_websocket_auth_duration_seconds_count'), durationBefore + 1);
  const failuresBefore = await metric(server, 'pogo_websocket_auth_failures_total{reason="worker_error"}');
  assert.equal(failuresBefore, 0);
  const failed = await raw.subscribe(uniq('private-throw-'), { timeout: 5000 });
  assert.equal(failed.event, 'pusher:subscription_error', JSON.stringify(failed));
  assert.equal(await metric(server, 'pogo_websocket_auth_failures_total{reason="worker_error"}'), 1);

  // A refused PHP publish is counted by app and reason.
  const bad = await fetch(`${server.url}/publish?channel=${encodeURIComponent('bad channel')}&event=e`);
  assert.deepEqual(await bad.json(), { code: 2 });
  assert.equal(await metric(server, 'pogo_websocket_publish_failures_total{app="pogo-app",reason="channel_invalid"}'), 1);

  // encode zstd br gzip: brotli is there.
  assert.deepEqual(await getEncoded(server, '/page', 'br'), { status: 200, encoding: 'br' });
});

test('the package page Caddyfile loads whole in bin/frankenphp, with its log filter, and pusher-js connects through @websocket', async () => {
  const port = await freePort();
  const text = documentedCaddyfile('package-page').replace(':8080 {', `:${port} {`);
  const app = { id: 'pogo-app', key: 'change-me-to-a-random-public-app-key', secret: SECRET };
  const server = await start('package page', text, {
    port,
    adminPort: await freePort(),
    env: { REVERB_APP_ID: app.id, REVERB_APP_KEY: app.key, REVERB_APP_SECRET: app.secret, POGO_WEBHOOK_SECRET: 'another-secret' },
  });
  server.app = app;
  const client = await connectPusher(server);
  await subscribe(client, uniq('orders-'));
  assert.deepEqual(await (await fetch(`${server.url}/up`)).json(), { health: 'OK' });
  assert.deepEqual(await getEncoded(server, '/page', 'br'), { status: 200, encoding: 'br' });
});

test("the first release's Caddyfile (Octane's, {$CADDY_*} placeholders) loads whole in bin/frankenphp, and pusher-js connects", async () => {
  const port = await freePort();
  const adminPort = await freePort();
  const text = documentedCaddyfile('first-release');
  const dir = appDir();
  // What `php artisan octane:start --caddyfile=Caddyfile` sets.
  const octane = {
    CADDY_GLOBAL_OPTIONS: '',
    CADDY_SERVER_ADMIN_HOST: '127.0.0.1',
    CADDY_SERVER_ADMIN_PORT: String(adminPort),
    APP_PUBLIC_PATH: join(dir, 'public'),
    CADDY_SERVER_WORKER_DIRECTIVE: '',
    CADDY_SERVER_WATCH_DIRECTIVES: '',
    CADDY_EXTRA_CONFIG: '',
    CADDY_SERVER_SERVER_NAME: `:${port}`,
    CADDY_SERVER_LOG_LEVEL: 'INFO',
    CADDY_SERVER_LOGGER: 'json',
    CADDY_SERVER_EXTRA_DIRECTIVES: '',
    // The block sets no app_secret: the module reads REVERB_APP_SECRET.
    REVERB_APP_SECRET: SECRET,
    WS_APP_SECRET: SECRET,
  };
  const server = await start('first release', text, { port, adminPort, env: octane });
  server.app = { id: 'pogo-app', key: 'pogo-app', secret: SECRET };
  const client = await connectPusher(server);
  await subscribe(client, uniq('orders-'));
  assert.equal(await metric(server, 'pogo_websocket_connections_active'), 1);
});
