// A Caddy reload in the middle of a fan-out: the WebSocket connections and the hub are kept
// (same configuration, same pooled hub), so no connection drops and no accepted event is lost.
// The reload is forced through the admin API (POST /load with `Cache-Control: must-revalidate`,
// as `caddy reload --force` does): Caddy skips a reload to an identical config otherwise.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { CADDY, caddyfile, freePort, launch } from './support/server.js';
import { RawClient, closeAllClients, md5Hex, parseMaybe, publish, signParams, uniq, withTimeout } from './support/clients.js';

const CLIENTS = 50;
const RELOADS = 3;

let server;
after(async () => {
  await closeAllClients();
  if (server) await server.stop();
});

// A signed POST /apps/{id}/events on a connection of its own: a kept-alive connection may be
// closed under a request by the reload (Caddy closes the old server's idle connections), which
// is the HTTP client's business, not the server's. Resolves with the status.
function publishOnItsOwnConnection(server, body) {
  const payload = JSON.stringify(body);
  const path = `/apps/${server.app.id}/events`;
  const params = { auth_key: server.app.key, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0', body_md5: md5Hex(payload) };
  params.auth_signature = signParams({ method: 'POST', path, params, secret: server.app.secret });
  const qs = new URLSearchParams(params).toString();
  return withTimeout(
    new Promise((resolve, reject) => {
      const req = http.request(`${server.url}${path}?${qs}`, { method: 'POST', agent: false, headers: { 'content-type': 'application/json' } }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', reject);
      req.end(payload);
    }),
    5000,
    'a publish',
  );
}

async function startWithAdmin() {
  const port = await freePort();
  const adminPort = await freePort();
  const text = caddyfile(port).replace('\tadmin off', `\tadmin 127.0.0.1:${adminPort}`);
  const s = await launch({
    binary: CADDY,
    name: 'bin/caddy',
    port,
    text,
    readyWithin: 15_000,
    async ready(url) {
      const res = await fetch(`${url}/up`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status < 500;
    },
  });
  s.app = { id: 'app-id', key: 'app-key', secret: 'app-secret' };
  s.reload = async () => {
    const res = await fetch(`http://127.0.0.1:${adminPort}/load`, {
      method: 'POST',
      headers: { 'content-type': 'text/caddyfile', 'cache-control': 'must-revalidate', origin: `http://127.0.0.1:${adminPort}` },
      body: s.caddyfile,
      signal: AbortSignal.timeout(10_000),
    });
    assert.equal(res.status, 200, `POST /load: ${res.status} ${await res.text()}`);
  };
  return s;
}

test('caddy reload during a fan-out drops no connection and loses no accepted event', async () => {
  server = await startWithAdmin();
  const channel = uniq('reload-');
  const clients = [];
  for (let i = 0; i < CLIENTS; i++) {
    const ws = await RawClient.connect(server);
    const reply = await ws.subscribe(channel, { auth: '' });
    assert.equal(reply.event, 'pusher_internal:subscription_succeeded');
    clients.push(ws);
  }

  // Publishes one after another while the reloads run; each status is kept.
  const accepted = [];
  const refused = [];
  let seq = 0;
  let reloading = true;
  const publisher = (async () => {
    while (reloading) {
      const n = ++seq;
      try {
        const status = await publishOnItsOwnConnection(server, { name: 'tick', channel, data: JSON.stringify({ seq: n }) });
        (status === 200 ? accepted : refused).push({ n, status });
      } catch (err) {
        refused.push({ n, error: err.message });
      }
    }
  })();
  const reloadTimes = [];
  try {
    for (let i = 0; i < RELOADS; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const t = Date.now();
      await server.reload();
      reloadTimes.push(Date.now() - t);
    }
    await new Promise((r) => setTimeout(r, 200));
  } finally {
    reloading = false;
    await publisher;
  }
  // A last event, after everything: once every client has it, the earlier ones have arrived.
  await publish(server, { name: 'done', channel, data: {} });
  await Promise.all(clients.map((ws) => ws.nextEvent('done', { timeout: 5000 })));

  console.log(`${RELOADS} reloads (${reloadTimes.join(', ')} ms) during ${seq} publishes: ${accepted.length} accepted, ${refused.length} failed`);
  assert.ok(accepted.length > 20, `only ${accepted.length} publishes during the reloads`);
  // The server never answered a publish with an error; a request may still fail in transport
  // when the reload closes the connection it arrived on before reading it (the publisher then
  // does not know whether it was accepted, and retries).
  assert.deepEqual(refused.filter((r) => r.status !== undefined), [], 'publishes answered with an error during the reloads');
  const want = accepted.map((a) => a.n);
  const first = clients[0].received('tick', channel).map((f) => parseMaybe(f.data).seq);
  assert.deepEqual(first.filter((n) => want.includes(n)), want, 'client 0 lost or reordered accepted events');
  const deliveredAnyway = refused.filter((r) => first.includes(r.n)).length;
  console.log(`publishes failed in transport: ${refused.length}, of which delivered anyway: ${deliveredAnyway}`);
  for (const [i, ws] of clients.entries()) {
    assert.equal(ws.closed, null, `client ${i} was disconnected`);
    const got = ws.received('tick', channel).map((f) => parseMaybe(f.data).seq);
    assert.deepEqual(got, first, `client ${i} got other events than client 0`);
  }
  assert.equal(server.exited(), null);
});
