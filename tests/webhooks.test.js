// Webhooks (`webhook <url> [types...]`, `webhook_secret`), received by a real HTTP server started
// here (support/webhooks.js): Pusher's format and signature, every event type, batching, the 3 s
// hold-back that makes reconnect flapping send nothing, a retry after a 500, a receiver that
// hangs, and, with two bin/caddy nodes sharing a real redis-server, each webhook once per cluster.
//
// Absence is shown with sentinels (settle()): a channel occupied and left on a node is vacated 3 s
// later, and each node sends its webhooks in order, so once the sentinel's channel_vacated has
// arrived from every node, anything those nodes would have sent before it has arrived too.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, startServer, brokerBecomes } from './support/server.js';
import { useRedis } from './support/redis.js';
import { useWebhookReceiver } from './support/webhooks.js';
import {
  RawClient, connectPusher, subscribe, nextEvent, createPublisher, sdkResult, signedRequest, httpRequest, hmacHex, uniq,
} from './support/clients.js';
import { assertSubscribed } from './support/assert.js';

const HOLD_BACK = 3000; // the window channel_vacated and member_removed wait for their pair
const AFTER_HOLD_BACK = { timeout: HOLD_BACK + 5000 };

const hooks = useWebhookReceiver();
const redis = useRedis();

// Signed with its webhook_secret; /hang receives only channel_occupied, /presence only members.
const MAIN = { id: 'hook-app', key: 'hook-key', secret: 'hook-app-secret' };
// No webhook_secret: the app secret signs.
const PLAIN = { id: 'plain-app', key: 'plain-key', secret: 'plain-app-secret' };
const CLUSTER = { id: 'cluster-app', key: 'cluster-key', secret: 'cluster-secret' };

const single = useServer(async () => {
  const r = await hooks.started;
  return {
    name: 'webhooks',
    apps: [
      {
        ...MAIN,
        options: [
          'webhook_secret hook-secret',
          `webhook ${r.url('/all')}`,
          `webhook ${r.url('/hang')} channel_occupied`,
          `webhook ${r.url('/presence')} member_added member_removed`,
        ],
      },
      { ...PLAIN, options: [`webhook ${r.url('/flaky')} channel_occupied`, `webhook ${r.url('/reject')} cache_miss`] },
    ],
    site: ['metrics /metrics'],
  };
});

// Two nodes of one deployment: the webhook is a block-level default, as the docs write it.
const clusterConfig = async (name) => ({
  name,
  app: CLUSTER,
  options: [`redis ${(await redis.started).url}`, `webhook ${(await hooks.started).url('/cluster')}`],
});
const nodeA = useServer(() => clusterConfig('node A'));
const nodeB = useServer(() => clusterConfig('node B'));

const main = () => ({ ...single, app: MAIN });
const plain = () => ({ ...single, app: PLAIN });

const is = (name, channel, extra = () => true) => (e) => e.name === name && e.channel === channel && extra(e);

// A raw client on `server` subscribed to `channel`.
async function subscriber(server, channel) {
  const ws = await RawClient.connect(server);
  assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
  return ws;
}

// Waits until every webhook the nodes released so far has arrived (see the header).
async function settle(...nodes) {
  const sentinels = [];
  for (const node of nodes) {
    const channel = uniq('sentinel-');
    const ws = await subscriber(node, channel);
    await ws.close();
    sentinels.push(channel);
  }
  await Promise.all(sentinels.map((ch) => hooks.nextEvent(is('channel_vacated', ch), { ...AFTER_HOLD_BACK, what: `the sentinel ${ch}` })));
}

// Polls the HTTP API of `node` until `channel` has `count` subscriptions across the cluster.
async function countBecomes(node, channel, count, timeout = 5000) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const res = await signedRequest(node, { path: `/apps/${node.app.id}/channels/${channel}`, query: { info: 'subscription_count' } });
    if (res.json?.subscription_count === count) return;
    if (Date.now() > deadline) throw new Error(`${node.name}: ${channel} has ${res.body}, not ${count} subscriptions, after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

// ---------------------------------------------------------------------------------------------
// Format and signature

test('a webhook is a Pusher-format JSON POST with X-Pusher-Key and the hex HMAC-SHA256 of its body by webhook_secret', async () => {
  const channel = uniq('signed-');
  const start = Date.now();
  await subscriber(main(), channel);
  const { request, event } = await hooks.nextEvent(is('channel_occupied', channel), { path: '/all' });
  assert.deepEqual(event, { name: 'channel_occupied', channel });
  assert.equal(request.headers['content-type'], 'application/json');
  assert.equal(request.headers['x-pusher-key'], MAIN.key);
  assert.equal(request.headers['x-pusher-signature'], hmacHex('hook-secret', request.body));
  assert.notEqual(request.headers['x-pusher-signature'], hmacHex(MAIN.secret, request.body));
  assert.equal(typeof request.json.time_ms, 'number');
  assert.ok(request.json.time_ms >= start - 1000 && request.json.time_ms <= Date.now(), `time_ms ${request.json.time_ms}`);
  assert.deepEqual(Object.keys(request.json).sort(), ['events', 'time_ms']);
});

test('a request answered 500 is retried, after a backoff, until it is accepted; without webhook_secret the app secret signs', async () => {
  const channel = uniq('retry-');
  await subscriber(plain(), channel);
  const carries = (r) => (r.json?.events || []).some(is('channel_occupied', channel));
  const failed = await hooks.nextRequest((r) => r.path === '/flaky' && r.status === 500 && carries(r), { what: 'the request answered 500' });
  const retried = await hooks.nextRequest((r) => r.path === '/flaky' && r.status === 200 && carries(r), { timeout: 8000, what: 'the retry' });
  assert.ok(retried.at - failed.at >= 900, `retried after ${retried.at - failed.at} ms, expected a backoff of about 1 s`);
  assert.equal(retried.headers['x-pusher-key'], PLAIN.key);
  assert.equal(retried.headers['x-pusher-signature'], hmacHex(PLAIN.secret, retried.body));
  assert.equal(failed.headers['x-pusher-signature'], hmacHex(PLAIN.secret, failed.body));
  assert.deepEqual(retried.json.events, failed.json.events);
});

// ---------------------------------------------------------------------------------------------
// Every type

test('channel_occupied, subscription_count and, 3 s after the last subscriber left, channel_vacated', async () => {
  const channel = uniq('news-');
  const a = await subscriber(main(), channel);
  await hooks.nextEvent(is('channel_occupied', channel), { path: '/all' });
  await hooks.nextEvent(is('subscription_count', channel, (e) => e.subscription_count === 1), { path: '/all' });
  const b = await subscriber(main(), channel);
  const { event } = await hooks.nextEvent(is('subscription_count', channel, (e) => e.subscription_count === 2), { path: '/all' });
  assert.deepEqual(event, { name: 'subscription_count', channel, subscription_count: 2 });
  await a.close();
  await b.close();
  const left = Date.now();
  const vacated = await hooks.nextEvent(is('channel_vacated', channel), { path: '/all', ...AFTER_HOLD_BACK });
  assert.deepEqual(vacated.event, { name: 'channel_vacated', channel });
  assert.ok(vacated.request.at - left >= HOLD_BACK - 200, `channel_vacated after ${vacated.request.at - left} ms, before the 3 s window`);
  await settle(main());
  assert.equal(hooks.events(is('channel_occupied', channel), { path: '/all' }).length, 1);
  assert.equal(hooks.events(is('channel_vacated', channel), { path: '/all' }).length, 1);
});

test('member_added for a user\'s first connection (pusher-js), member_removed when its last one leaves, to the URL that asked for them', async () => {
  const channel = uniq('presence-room-');
  const alice = { user_id: uniq('alice-'), user_info: { name: 'Alice' } };
  const first = await connectPusher(main(), { presence: alice });
  await subscribe(first, channel);
  const added = await hooks.nextEvent(is('member_added', channel), { path: '/presence' });
  assert.deepEqual(added.event, { name: 'member_added', channel, user_id: alice.user_id });
  assert.ok(added.request.json.events.every((e) => e.name === 'member_added' || e.name === 'member_removed'),
    `/presence asked for member events only: ${added.request.body}`);
  const second = await connectPusher(main(), { presence: alice });
  await subscribe(second, channel);
  first.close();
  second.close();
  const removed = await hooks.nextEvent(is('member_removed', channel), { path: '/presence', ...AFTER_HOLD_BACK });
  assert.deepEqual(removed.event, { name: 'member_removed', channel, user_id: alice.user_id });
  await settle(main());
  assert.equal(hooks.events(is('member_added', channel), { path: '/presence' }).length, 1, 'one member_added for two connections');
  assert.equal(hooks.events(is('member_removed', channel), { path: '/presence' }).length, 1);
});

test('client_event carries event, data, socket_id, and user_id on presence channels', async () => {
  const priv = uniq('private-chat-');
  const pres = uniq('presence-chat-');
  const ann = { user_id: uniq('ann-'), user_info: {} };
  const sender = await connectPusher(main(), { presence: ann });
  const other = await connectPusher(main(), { presence: { user_id: uniq('bo-'), user_info: {} } });
  const privChannel = await subscribe(sender, priv);
  const presChannel = await subscribe(sender, pres);
  const otherPriv = await subscribe(other, priv);
  await subscribe(other, pres);
  const got = nextEvent(otherPriv, 'client-typing');
  privChannel.trigger('client-typing', { id: 1, text: 'hi' });
  await got; // the other subscriber still gets it
  presChannel.trigger('client-wave', 'hello');
  const onPrivate = await hooks.nextEvent(is('client_event', priv), { path: '/all' });
  assert.deepEqual(onPrivate.event, {
    name: 'client_event', channel: priv, event: 'client-typing', data: JSON.stringify({ id: 1, text: 'hi' }),
    socket_id: sender.connection.socket_id,
  });
  const onPresence = await hooks.nextEvent(is('client_event', pres), { path: '/all' });
  assert.deepEqual(onPresence.event, {
    name: 'client_event', channel: pres, event: 'client-wave', data: 'hello', socket_id: sender.connection.socket_id, user_id: ann.user_id,
  });
});

test('cache_miss when a subscriber finds nothing cached, none when an event is cached', async () => {
  const channel = uniq('cache-prices-');
  await subscriber(main(), channel);
  const { event } = await hooks.nextEvent(is('cache_miss', channel), { path: '/all' });
  assert.deepEqual(event, { name: 'cache_miss', channel });
  const res = await sdkResult(createPublisher(main()).trigger(channel, 'price', { eur: 1 }));
  assert.equal(res.status, 200, res.body);
  const ws = await subscriber(main(), channel);
  await ws.nextEvent('price', { channel });
  await settle(main());
  assert.equal(hooks.events(is('cache_miss', channel), { path: '/all' }).length, 1);
});

// ---------------------------------------------------------------------------------------------
// Delivery

test('events that happen together are batched in one request', async () => {
  const channels = [uniq('batch-a-'), uniq('batch-b-'), uniq('batch-c-')];
  const ws = await RawClient.connect(main());
  for (const channel of channels) ws.send({ event: 'pusher:subscribe', data: { channel, auth: '' } });
  const { request } = await hooks.nextEvent(is('channel_occupied', channels[0]), { path: '/all' });
  for (const channel of channels) {
    assert.ok(request.json.events.some(is('channel_occupied', channel)), `${channel} is not in the batch ${request.body}`);
  }
});

test('a channel left and joined again within 3 s (pusher-js reconnecting) sends no vacated/occupied and no removed/added', async () => {
  const presence = uniq('presence-flap-');
  const channel = uniq('flap-');
  const carol = { user_id: uniq('carol-'), user_info: {} };
  const first = await connectPusher(main(), { presence: carol });
  await subscribe(first, presence);
  await subscribe(first, channel);
  await hooks.nextEvent(is('channel_occupied', channel), { path: '/all' });
  await hooks.nextEvent(is('member_added', presence), { path: '/all' });
  const sentinel = uniq('sentinel-');
  const watcher = await subscriber(main(), sentinel);

  first.close();
  await watcher.close(); // its channel_vacated comes after any of the flapping ones
  const again = await connectPusher(main(), { presence: carol });
  await subscribe(again, presence);
  await subscribe(again, channel);

  await hooks.nextEvent(is('channel_vacated', sentinel), AFTER_HOLD_BACK);
  assert.equal(hooks.events(is('channel_vacated', channel)).length, 0, 'channel_vacated was sent for a flap');
  assert.equal(hooks.events(is('member_removed', presence)).length, 0, 'member_removed was sent for a flap');
  assert.equal(hooks.events(is('channel_occupied', channel), { path: '/all' }).length, 1, 'channel_occupied was sent again');
  assert.equal(hooks.events(is('member_added', presence), { path: '/all' }).length, 1, 'member_added was sent again');
});

test('a receiver that hangs delays neither the clients nor the other webhook URLs', async () => {
  await subscriber(main(), uniq('hung-'));
  // /hang got a channel_occupied (this one, or an earlier test's) and never answers: its
  // requests wait out their timeout and retries, one at a time.
  await hooks.nextRequest((r) => r.path === '/hang' && r.status === null, { what: 'a hanging request' });

  const channel = uniq('live-');
  const started = Date.now();
  const client = await connectPusher(main());
  const ch = await subscribe(client, channel);
  const got = nextEvent(ch, 'update');
  const res = await sdkResult(createPublisher(main()).trigger(channel, 'update', { n: 1 }));
  assert.equal(res.status, 200, res.body);
  assert.deepEqual((await got).data, { n: 1 });
  await hooks.nextEvent(is('channel_occupied', channel), { path: '/all', timeout: 2000 });
  assert.ok(Date.now() - started < 3000, `events took ${Date.now() - started} ms while /hang hangs`);
});

// The value of one sample on GET /metrics (Caddy's `metrics` handler, the admin endpoint's registry).
async function metric(server, sample) {
  const res = await httpRequest(server, { path: '/metrics' });
  assert.equal(res.status, 200, res.body);
  const line = res.body.split('\n').find((l) => l.startsWith(`${sample} `));
  assert.ok(line, `${sample} is not on /metrics`);
  return Number(line.slice(sample.length + 1));
}

test('pogo_websocket_webhook_dropped_total{reason} counts from 0 what a receiver rejects (4xx, not retried)', async () => {
  for (const reason of ['queue_full', 'failed', 'rejected', 'shutdown']) {
    assert.ok((await metric(single, `pogo_websocket_webhook_dropped_total{reason="${reason}"}`)) >= 0);
  }
  const rejected = `pogo_websocket_webhook_dropped_total{reason="rejected"}`;
  const before = await metric(single, rejected);
  const delivered = await metric(single, 'pogo_websocket_webhook_delivered_total');
  const channel = uniq('cache-rejected-');
  await subscriber(plain(), channel);
  const request = await hooks.nextRequest((r) => r.path === '/reject' && (r.json?.events || []).some(is('cache_miss', channel)), { what: 'the rejected request' });
  assert.equal(request.status, 403);
  const deadline = Date.now() + 5000;
  while ((await metric(single, rejected)) < before + request.json.events.length) {
    assert.ok(Date.now() < deadline, `${rejected} stayed at ${await metric(single, rejected)}, expected ${before + request.json.events.length}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  await settle(main()); // over 3 s: a retry (1 s backoff) would have arrived
  assert.equal(hooks.requests.filter((r) => r.path === '/reject' && r.json?.events?.some(is('cache_miss', channel))).length, 1, 'a 4xx is not retried');
  assert.ok((await metric(single, 'pogo_websocket_webhook_delivered_total')) > delivered, 'delivered events are counted');
});

// ---------------------------------------------------------------------------------------------
// Once per cluster

test('with two nodes, channel_occupied fires once when the cluster\'s first subscriber arrives and channel_vacated once when its last leaves', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up'), brokerBecomes(nodeB, 'up')]);
  const channel = uniq('cluster-news-');
  const onA = await subscriber(nodeA, channel);
  await hooks.nextEvent(is('channel_occupied', channel), { path: '/cluster' });
  const onB = await subscriber(nodeB, channel);
  // B's count reaches A through Redis before A's subscriber leaves.
  await hooks.nextEvent(is('subscription_count', channel, (e) => e.subscription_count === 2), { path: '/cluster' });
  await onA.close();
  await hooks.nextEvent(is('subscription_count', channel, (e) => e.subscription_count === 1), { path: '/cluster' });
  await onB.close();
  await hooks.nextEvent(is('channel_vacated', channel), { path: '/cluster', ...AFTER_HOLD_BACK });
  await settle(nodeA, nodeB);
  assert.equal(hooks.events(is('channel_occupied', channel)).length, 1, 'channel_occupied once for the cluster');
  assert.equal(hooks.events(is('channel_vacated', channel)).length, 1, 'channel_vacated once for the cluster');
});

// Both nodes may see a 0→1 before hearing of each other; the Redis claim keeps it to one webhook.
// The test after it forces that case.
test('with two nodes, subscribers arriving on both at the same moment send one channel_occupied', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up'), brokerBecomes(nodeB, 'up')]);
  const channels = Array.from({ length: 20 }, (_, i) => uniq(`race-${i}-`));
  const [a, b] = await Promise.all([RawClient.connect(nodeA), RawClient.connect(nodeB)]);
  for (const channel of channels) {
    a.send({ event: 'pusher:subscribe', data: { channel, auth: '' } });
    b.send({ event: 'pusher:subscribe', data: { channel, auth: '' } });
  }
  await Promise.all(channels.map((c) => hooks.nextEvent(is('channel_occupied', c), { path: '/cluster' })));
  await settle(nodeA, nodeB);
  for (const channel of channels) {
    assert.equal(hooks.events(is('channel_occupied', channel)).length, 1, `channel_occupied of ${channel} once for the cluster`);
  }
});

test('with two nodes, the last subscribers leaving both at the same moment send one channel_vacated', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up'), brokerBecomes(nodeB, 'up')]);
  const channels = Array.from({ length: 10 }, (_, i) => uniq(`both-leave-${i}-`));
  const [a, b] = await Promise.all([RawClient.connect(nodeA), RawClient.connect(nodeB)]);
  for (const channel of channels) {
    assertSubscribed(await a.subscribe(channel, { auth: '' }), channel);
    assertSubscribed(await b.subscribe(channel, { auth: '' }), channel);
  }
  // Both nodes know of both subscribers before they leave.
  for (const node of [nodeA, nodeB]) {
    for (const channel of channels) await countBecomes(node, channel, 2);
  }
  // Each node may see the other's departure as the last one.
  await Promise.all([a.close(), b.close()]);
  await Promise.all(channels.map((c) => hooks.nextEvent(is('channel_vacated', c), { path: '/cluster', ...AFTER_HOLD_BACK })));
  await settle(nodeA, nodeB);
  for (const channel of channels) {
    assert.equal(hooks.events(is('channel_vacated', channel)).length, 1, `channel_vacated of ${channel} once for the cluster`);
  }
});

test('with two nodes, a user present on both is added once and removed once', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up'), brokerBecomes(nodeB, 'up')]);
  const channel = uniq('presence-cluster-');
  const dave = { user_id: uniq('dave-'), user_info: {} };
  const onA = await connectPusher(nodeA, { presence: dave });
  await subscribe(onA, channel);
  await hooks.nextEvent(is('member_added', channel), { path: '/cluster' });
  const onB = await connectPusher(nodeB, { presence: dave });
  await subscribe(onB, channel);
  onA.close();
  onB.close();
  await hooks.nextEvent(is('member_removed', channel), { path: '/cluster', ...AFTER_HOLD_BACK });
  await settle(nodeA, nodeB);
  assert.equal(hooks.events(is('member_added', channel)).length, 1, 'member_added once for the cluster');
  assert.equal(hooks.events(is('member_removed', channel)).length, 1, 'member_removed once for the cluster');
});

test('with two nodes, a client that reconnects to the other node within 3 s sends nothing', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up'), brokerBecomes(nodeB, 'up')]);
  const channel = uniq('moving-');
  const onA = await subscriber(nodeA, channel);
  await hooks.nextEvent(is('channel_occupied', channel), { path: '/cluster' });
  await onA.close();
  const onB = await subscriber(nodeB, channel);
  await settle(nodeA, nodeB);
  assert.equal(hooks.events(is('channel_vacated', channel)).length, 0, 'channel_vacated was sent for a move');
  assert.equal(hooks.events(is('channel_occupied', channel)).length, 1, 'channel_occupied was sent again');
  await onB.close();
});

test('when a node dies, the nodes left send the channel_vacated and member_removed it causes once for the cluster', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up'), brokerBecomes(nodeB, 'up')]);
  const nodeC = await startServer(await clusterConfig('node C'));
  try {
    await brokerBecomes(nodeC, 'up');
    const channel = uniq('orphan-');
    const presence = uniq('presence-orphan-');
    await subscriber(nodeC, channel);
    const erin = await RawClient.connect(nodeC);
    await erin.subscribePresence(presence, { user_id: uniq('erin-'), user_info: {} }, CLUSTER);
    await hooks.nextEvent(is('channel_occupied', channel), { path: '/cluster' });
    await hooks.nextEvent(is('member_added', presence), { path: '/cluster' });
    for (const node of [nodeA, nodeB]) await countBecomes(node, channel, 1);
    nodeC.child.kill('SIGKILL');
    // Both remaining nodes see node C go, and both report what it leaves as their own.
    await hooks.nextEvent(is('channel_vacated', channel), { path: '/cluster', timeout: 15000 });
    await hooks.nextEvent(is('member_removed', presence), { path: '/cluster', timeout: 15000 });
    await settle(nodeA, nodeB);
    assert.equal(hooks.events(is('channel_vacated', channel)).length, 1, 'channel_vacated once for the cluster');
    assert.equal(hooks.events(is('member_removed', presence)).length, 1, 'member_removed once for the cluster');
    assert.equal(hooks.events(is('channel_vacated', presence)).length, 1, 'the presence channel vacated once');
  } finally {
    await nodeC.stop();
  }
});
