// The options the product documentation promises, end to end in bin/caddy with real clients:
// the app key defaults to the app id; block-level max_connections is the node's capacity (4100
// Over capacity) while an app's max_connections stays its quota (4004); handshake_rate and
// handshake_burst throttle upgrades per client IP (Caddy's, so trusted_proxies applies) with 429
// and Retry-After; shutdown_timeout bounds the stop, every client getting 4200 first.

import { test, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CADDY, freePort, launch } from './support/server.js';
import { RawClient, closeAllClients, connectPusher, createPublisher, nextEvent, publish, subscribe, uniq, withTimeout } from './support/clients.js';
import { OP, RawSocket, destroyAllSockets, frame } from './support/rawtcp.js';
import { assertPusherError } from './support/assert.js';

const servers = new Set();
afterEach(async () => {
  await closeAllClients();
  destroyAllSockets();
});
after(async () => {
  for (const s of servers) await s.stop();
});

// Starts bin/caddy with `lines` in a flat pogo_websocket block (and `global` lines in the global
// options), without any REVERB_* variable.
async function start({ lines, global = [], env = {} }) {
  const port = await freePort();
  const text = [
    '{',
    ...(global.some((l) => l.startsWith('admin ')) ? [] : ['\tadmin off']),
    '\tauto_https off',
    ...global.map((l) => `\t${l}`),
    '}',
    `:${port} {`,
    '\t@websocket path /app/* /apps/* /up /pogo/health',
    '\tpogo_websocket @websocket {',
    ...lines.map((l) => `\t\t${l}`),
    '\t}',
    '}',
    '',
  ].join('\n');
  const clean = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REVERB_')));
  const server = await launch({
    binary: CADDY,
    name: 'bin/caddy',
    port,
    text,
    env: { ...clean, ...env },
    readyWithin: 15_000,
    async ready(url) {
      const res = await fetch(`${url}/up`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
  });
  servers.add(server);
  const stop = server.stop;
  server.stop = async () => {
    servers.delete(server);
    await stop();
  };
  return server;
}

const APP = { id: 'docs-app', key: 'docs-key', secret: 'docs-secret' };
const flat = (app = APP) => [`app_id ${app.id}`, `app_key ${app.key}`, `app_secret ${app.secret}`];

// Sends a WebSocket upgrade request and resolves with the HTTP answer's status and headers (the
// socket is destroyed: a 101 is not used further).
function upgradeStatus(server, headers = {}) {
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request({
        host: '127.0.0.1',
        port: server.port,
        path: `/app/${server.app.key}?protocol=7&client=js&version=8.6.0`,
        agent: false,
        headers: {
          Connection: 'Upgrade',
          Upgrade: 'websocket',
          'Sec-WebSocket-Version': '13',
          'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
          ...headers,
        },
      });
      req.on('upgrade', (res, socket) => {
        socket.destroy();
        resolve({ status: res.statusCode, headers: res.headers });
      });
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: '' }));
      });
      req.on('error', reject);
      req.end();
    }),
    3000,
    'the upgrade answer',
  );
}

test('with app_id and app_secret but no app_key (and no REVERB_APP_KEY), the key is the app id', async () => {
  const server = await start({ lines: ['app_id pogo-app', 'app_secret s3cret'] });
  server.app = { id: 'pogo-app', key: 'pogo-app', secret: 's3cret' };
  const client = await connectPusher(server);
  const channel = await subscribe(client, uniq('news-'));
  const got = nextEvent(channel, 'hello');
  await createPublisher(server).trigger(channel.name, 'hello', { n: 1 });
  assert.deepEqual((await got).data, { n: 1 });
  await server.stop();
});

test('block-level max_connections is the node capacity: the connection over it gets pusher:error 4100 Over capacity and is closed; a freed slot admits again', async () => {
  const other = { id: 'other', key: 'other-key', secret: 'other-secret' };
  const server = await start({
    lines: ['max_connections 2', `app ${APP.id} {`, `\tkey ${APP.key}`, `\tsecret ${APP.secret}`, '}', `app ${other.id} {`, `\tkey ${other.key}`, `\tsecret ${other.secret}`, '}'],
  });
  server.app = APP;
  // The capacity counts every app's connections.
  const a = await RawClient.connect(server);
  await RawClient.connect(server, { key: other.key });
  const refused = await RawClient.open(server, { key: other.key });
  const frame = await refused.next((f) => f.event === 'pusher:error', { what: 'pusher:error' });
  assert.equal(assertPusherError(frame, 4100).message, 'Over capacity');
  const closed = await withTimeout(refused.closedPromise, 3000, 'the close');
  assert.equal(closed.code, 4100);

  a.close();
  const deadline = Date.now() + 3000;
  for (;;) {
    const again = await RawClient.open(server);
    const f = await again.next((x) => x.event === 'pusher:connection_established' || x.event === 'pusher:error');
    if (f.event === 'pusher:connection_established') break;
    assert.ok(Date.now() < deadline, `still refused after a slot freed: ${JSON.stringify(f)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await server.stop();
});

test("inside app { }, max_connections is the app's quota (4004), beside the node's capacity", async () => {
  const server = await start({ lines: ['max_connections 10', `app ${APP.id} {`, `\tkey ${APP.key}`, `\tsecret ${APP.secret}`, '\tmax_connections 1', '}'] });
  server.app = APP;
  await RawClient.connect(server);
  const refused = await RawClient.open(server);
  const frame = await refused.next((f) => f.event === 'pusher:error');
  assertPusherError(frame, 4004);
  await server.stop();
});

test('handshake_rate and handshake_burst: upgrades over the burst get 429 with Retry-After before any upgrade; another client IP is not affected', async () => {
  const server = await start({
    lines: [...flat(), 'handshake_rate 1', 'handshake_burst 3'],
    // Behind a proxy on loopback, Caddy's client IP is the forwarded one.
    global: ['servers {', '\ttrusted_proxies static 127.0.0.0/8', '\tclient_ip_headers X-Forwarded-For', '}'],
  });
  server.app = APP;
  const from = (ip) => ({ 'X-Forwarded-For': ip });
  for (let i = 0; i < 3; i++) {
    assert.equal((await upgradeStatus(server, from('203.0.113.1'))).status, 101, `upgrade ${i + 1} of the burst`);
  }
  const over = await upgradeStatus(server, from('203.0.113.1'));
  assert.equal(over.status, 429);
  assert.ok(Number(over.headers['retry-after']) >= 1, `Retry-After: ${over.headers['retry-after']}`);
  assert.equal((await upgradeStatus(server, from('203.0.113.2'))).status, 101, 'another client IP');
  // The token comes back after 1/rate: one more upgrade is admitted.
  await new Promise((r) => setTimeout(r, Number(over.headers['retry-after']) * 1000));
  assert.equal((await upgradeStatus(server, from('203.0.113.1'))).status, 101, 'after Retry-After');
  // pusher-js, which has its own address (no X-Forwarded-For), connects.
  const client = await connectPusher(server);
  assert.equal(client.connection.state, 'connected');
  await server.stop();
});

test('the default handshake throttle (100/s, burst 50) admits 50 quick upgrades from one IP and refuses the ones far over', async () => {
  const server = await start({ lines: flat() });
  server.app = APP;
  const statuses = [];
  for (let i = 0; i < 80; i++) statuses.push((await upgradeStatus(server)).status);
  assert.deepEqual(statuses.slice(0, 50), Array(50).fill(101));
  assert.ok(statuses.includes(429), `no 429 among 80 quick upgrades: ${statuses.join(',')}`);
  await server.stop();
});

test('shutdown_timeout: at stop every client gets close 4200; a client whose queue cannot drain is waited for up to the timeout, then closed', async () => {
  const server = await start({ lines: [...flat(), 'shutdown_timeout 2s', 'max_event_payload 1MiB', 'max_queue 64MiB'] });
  server.app = APP;
  const polite = await RawClient.connect(server);
  // A raw socket that subscribes, then stops reading: what is sent to it piles up in the
  // kernel's buffers, then in its queue, ahead of the close frame.
  const stuck = await RawSocket.upgrade(server);
  assert.equal((await stuck.nextEvent()).event, 'pusher:connection_established');
  stuck.write(frame(OP.TEXT, JSON.stringify({ event: 'pusher:subscribe', data: { channel: 'big' } })));
  assert.equal((await stuck.nextEvent()).event, 'pusher_internal:subscription_succeeded');
  stuck.socket.pause();
  const data = 'x'.repeat(1000 * 1000);
  for (let i = 0; i < 12; i++) await publish(server, { name: 'big', channel: 'big', data });

  const started = Date.now();
  const stopped = server.stop();
  const closed = await withTimeout(polite.closedPromise, 3000, 'the 4200 close');
  assert.equal(closed.code, 4200);
  await stopped;
  const took = Date.now() - started;
  // It waited for the queue (most of the 2 s), and no longer than the timeout allows.
  assert.ok(took >= 1500, `stop took ${took} ms: it did not wait for the stuck queue`);
  assert.ok(took < 2000 + 1000, `stop took ${took} ms with shutdown_timeout 2s`);
  stuck.socket.resume();
  await stuck.closed(5000);
});

test('a reload that drops the app closes its connections with 4200, and the new app serves at once', async () => {
  const adminPort = await freePort();
  const server = await start({ lines: flat(), global: [`admin 127.0.0.1:${adminPort}`] });
  server.app = APP;
  const client = await RawClient.connect(server);
  const next = { id: 'next-app', key: 'next-key', secret: 'next-secret' };
  const text = server.caddyfile.replace(`app_id ${APP.id}`, `app_id ${next.id}`).replace(`app_key ${APP.key}`, `app_key ${next.key}`).replace(`app_secret ${APP.secret}`, `app_secret ${next.secret}`);
  const res = await fetch(`http://127.0.0.1:${adminPort}/load`, {
    method: 'POST',
    headers: { 'content-type': 'text/caddyfile', origin: `http://127.0.0.1:${adminPort}` },
    body: text,
    signal: AbortSignal.timeout(15_000),
  });
  assert.equal(res.status, 200, await res.text());
  const closed = await withTimeout(client.closedPromise, 5000, 'the 4200 close');
  assert.equal(closed.code, 4200);
  const fresh = await RawClient.connect(server, { key: next.key });
  assert.ok(fresh.socketId);
  await server.stop();
});
