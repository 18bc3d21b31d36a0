// The documented metrics on Caddy's admin /metrics, with their values after real traffic:
// connections_active and subscriptions_active (gauges) follow pusher-js clients, messages_total
// counts broadcasts, publish_failures_total{app,reason} counts refused HTTP API publishes, known
// label values are there at 0 from the start, and POGO_WS_HOT_PATH_METRICS=true adds the hot
// path's histograms (absent otherwise).

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { CADDY, freePort, launch, TEST_SHARDS } from './support/server.js';
import { closeAllClients, connectPusher, nextEvent, publish, signedRequest, subscribe, uniq } from './support/clients.js';

// The engine shards of the servers started here (POGO_TEST_SHARDS, else the default of this machine).
const SHARDS = Number(TEST_SHARDS || Math.min(Math.max(os.availableParallelism(), 1), 8));

const APP = { id: 'metrics-app', key: 'metrics-key', secret: 'metrics-secret' };
const servers = [];
after(async () => {
  await closeAllClients();
  for (const s of servers) await s.stop();
});

async function start(env = {}) {
  const port = await freePort();
  const adminPort = await freePort();
  const text = [
    '{',
    `\tadmin 127.0.0.1:${adminPort}`,
    '\tauto_https off',
    '}',
    `:${port} {`,
    '\t@websocket path /app/* /apps/* /up /pogo/health',
    '\tpogo_websocket @websocket {',
    `\t\tapp_id ${APP.id}`,
    `\t\tapp_key ${APP.key}`,
    `\t\tapp_secret ${APP.secret}`,
    '\t\tmax_event_payload 1KB',
    '\t}',
    '}',
    '',
  ].join('\n');
  const server = await launch({
    binary: CADDY,
    name: 'bin/caddy',
    port,
    text,
    env: { ...process.env, ...env },
    readyWithin: 15_000,
    async ready(url) {
      const res = await fetch(`${url}/up`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
  });
  servers.push(server);
  server.app = APP;
  server.adminPort = adminPort;
  return server;
}

// Caddy's admin /metrics as { 'name{labels}': value }.
async function scrape(server) {
  const res = await fetch(`http://127.0.0.1:${server.adminPort}/metrics`, {
    // Caddy refuses browser-like requests (fetch sends Sec-Fetch-Mode) without an allowed Origin.
    headers: { origin: `http://127.0.0.1:${server.adminPort}` },
    signal: AbortSignal.timeout(5000),
  });
  assert.equal(res.status, 200);
  const samples = {};
  for (const line of (await res.text()).split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    samples[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return samples;
}

// Polls /metrics until `check(samples)` holds (the gauges move once the engine's batch is done).
async function metricsBecome(server, check, what) {
  const deadline = Date.now() + 3000;
  let last;
  for (;;) {
    last = await scrape(server);
    if (check(last)) return last;
    if (Date.now() > deadline) assert.fail(`metrics never showed ${what}; last scrape: ${JSON.stringify(pick(last, 'pogo_websocket_'))}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function pick(samples, prefix) {
  return Object.fromEntries(Object.entries(samples).filter(([k]) => k.startsWith(prefix)));
}

const PUBLISH_REASONS = [
  'hub_missing', 'channel_invalid', 'event_invalid', 'payload_too_large', 'payload_invalid', 'broker_publish_failed',
  'channels_invalid', 'broker_queue_full', 'shard_queue_full', 'socket_id_invalid', 'unauthorized', 'invalid_request', 'timeout',
];

test('every documented metric is on /metrics from the start, known label values at 0, hot path histograms off', async () => {
  const server = await start();
  const m = await scrape(server);
  for (const name of [
    'pogo_websocket_connections_active',
    'pogo_websocket_subscriptions_active',
    'pogo_websocket_messages_total',
    'pogo_websocket_auth_failures_total{reason="concurrency_limit"}',
    'pogo_websocket_auth_failures_total{reason="worker_error"}',
    'pogo_websocket_auth_duration_seconds_count',
    'pogo_websocket_circuit_breaker_open_total',
    'pogo_websocket_broker_dropped_messages_total{reason="queue_full"}',
    'pogo_websocket_broker_dropped_messages_total{reason="publish_failed"}',
    'pogo_websocket_client_dropped_messages_total',
    // The first release's names, beside the current ones.
    'pogo_websocket_broker_dropped_total{reason="queue_full"}',
    'pogo_websocket_broker_dropped_total{reason="publish_failed"}',
    'pogo_websocket_messages_dropped_total',
    'pogo_websocket_subscriptions_total',
    ...PUBLISH_REASONS.map((r) => `pogo_websocket_publish_failures_total{app="${APP.id}",reason="${r}"}`),
  ]) {
    assert.equal(m[name], 0, `${name} = ${m[name]}`);
  }
  assert.ok(Object.keys(m).some((k) => k.startsWith('pogo_websocket_webhook_dropped_total')), 'webhook_dropped_total missing');
  for (const hot of ['fanout_size', 'queue_depth_bytes', 'write_duration_seconds']) {
    assert.ok(!Object.keys(m).some((k) => k.startsWith(`pogo_websocket_${hot}`)), `${hot} present without POGO_WS_HOT_PATH_METRICS`);
  }
  // Names no documentation ever showed, replaced by documented ones, are gone.
  for (const old of ['pogo_websocket_connections ', 'pogo_websocket_publish_rejected_total']) {
    assert.ok(!Object.keys(m).some((k) => `${k} `.startsWith(old)), `${old.trim()} still exported`);
  }
  await closeAllClients();
  await server.stop();
});

test('connections_active, subscriptions_active and messages_total follow real pusher-js traffic', async () => {
  const server = await start();
  const before = await scrape(server);
  const a = await connectPusher(server);
  const b = await connectPusher(server);
  const c = await connectPusher(server);
  const news = uniq('news-');
  const sport = uniq('sport-');
  const [na] = await Promise.all([subscribe(a, news), subscribe(b, news), subscribe(c, news), subscribe(c, sport)]);
  await metricsBecome(
    server,
    (m) => m.pogo_websocket_connections_active === 3 && m.pogo_websocket_subscriptions_active === 4,
    '3 connections and 4 subscriptions',
  );
  assert.equal((await scrape(server)).pogo_websocket_subscriptions_total, 4, "the first release's name follows subscriptions_active");

  const got = nextEvent(na, 'update');
  await publish(server, { name: 'update', channel: news, data: { n: 1 } });
  await publish(server, { name: 'update', channel: sport, data: { n: 2 } });
  await got;
  // Two messages, whatever their number of recipients (3 and 1), each counted once per engine
  // shard with recipients: a new connection goes to the shard with the fewest, so a, b and c are
  // on shards 0, 1 and 2 of 3 or more.
  const newsShards = Math.min(SHARDS, 3);
  await metricsBecome(
    server,
    (m) => m.pogo_websocket_messages_total === before.pogo_websocket_messages_total + newsShards + 1,
    `messages_total + ${newsShards + 1}`,
  );

  c.close();
  await metricsBecome(
    server,
    (m) => m.pogo_websocket_connections_active === 2 && m.pogo_websocket_subscriptions_active === 2,
    '2 connections and 2 subscriptions after one client left',
  );
  a.unsubscribe(news);
  await metricsBecome(
    server,
    (m) => m.pogo_websocket_subscriptions_active === 1 && m.pogo_websocket_subscriptions_total === 1,
    '1 subscription after an unsubscribe, under both names',
  );
  a.close();
  b.close();
  await metricsBecome(server, (m) => m.pogo_websocket_connections_active === 0 && m.pogo_websocket_subscriptions_active === 0, 'nothing open');
  await closeAllClients();
  await server.stop();
});

test('publish_failures_total{app,reason} counts refused HTTP API publishes by reason', async () => {
  const server = await start();
  const key = (r) => `pogo_websocket_publish_failures_total{app="${APP.id}",reason="${r}"}`;
  const before = await scrape(server);
  const body = { name: 'e', channel: 'c', data: '{}' };
  const wrong = await signedRequest(server, { app: { ...APP, secret: 'not-the-secret' }, path: `/apps/${APP.id}/events`, body });
  assert.equal(wrong.status, 401, wrong.body);
  const big = await signedRequest(server, { app: APP, path: `/apps/${APP.id}/events`, body: { ...body, data: JSON.stringify('x'.repeat(2000)) } });
  assert.equal(big.status, 413, big.body);
  const ok = await signedRequest(server, { app: APP, path: `/apps/${APP.id}/events`, body });
  assert.equal(ok.status, 200, ok.body);
  const m = await scrape(server);
  assert.equal(m[key('unauthorized')], before[key('unauthorized')] + 1);
  assert.equal(m[key('payload_too_large')], before[key('payload_too_large')] + 1);
  for (const r of PUBLISH_REASONS.filter((x) => x !== 'unauthorized' && x !== 'payload_too_large')) {
    assert.equal(m[key(r)], 0, r);
  }
  await closeAllClients();
  await server.stop();
});

test('POGO_WS_HOT_PATH_METRICS=true adds fanout_size, queue_depth_bytes and write_duration_seconds, observed on real traffic', async () => {
  const server = await start({ POGO_WS_HOT_PATH_METRICS: 'true' });
  const a = await connectPusher(server);
  const b = await connectPusher(server);
  const ch = uniq('hot-');
  const [ca] = await Promise.all([subscribe(a, ch), subscribe(b, ch)]);
  const before = await scrape(server);
  assert.equal(before.pogo_websocket_fanout_size_count, 0);
  const got = nextEvent(ca, 'go');
  await publish(server, { name: 'go', channel: ch, data: {} });
  await got;
  // One broadcast per engine shard with recipients: a and b are on shards 0 and 1 of 2 or more.
  const broadcasts = Math.min(SHARDS, 2);
  const m = await metricsBecome(server, (x) => x.pogo_websocket_fanout_size_count === broadcasts, `${broadcasts} broadcasts observed`);
  assert.equal(m.pogo_websocket_fanout_size_sum, 2, 'the message had 2 recipients');
  assert.ok(m.pogo_websocket_queue_depth_bytes_count > 0);
  assert.ok(m.pogo_websocket_write_duration_seconds_count > 0);
  await closeAllClients();
  await server.stop();
});
