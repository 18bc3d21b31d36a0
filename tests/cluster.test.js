// Several nodes, one Redis: the Redis Pub/Sub broker (`redis`, `redis_prefix`, `broker_queue`).
// Three bin/caddy nodes (A, B, C) serve the same app through one real redis-server; two more
// (the "other" deployment) share that Redis under another redis_prefix; one node has no broker.
// Every publish path (SDK trigger and triggerBatch, client events, sendToUser, cache channels)
// must reach the subscribers of every node of the deployment exactly once, socket_id exclusion
// and "no echo to the sender" must hold across nodes, and a Redis outage must be survived.
//
// Absence across nodes is shown with sentinels published from every node in turn (settle()):
// Redis relays the messages of one publisher in order, and a node publishes a sentinel only
// after the event under test has reached it, so any stray copy arrives before the last sentinel.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, brokerBecomes } from './support/server.js';
import { useRedis } from './support/redis.js';
import {
  RawClient,
  connectPusher,
  subscribe,
  nextEvent,
  nextMessage,
  createEcho,
  createPublisher,
  sdkResult,
  signedRequest,
  httpRequest,
  publish,
  parseMaybe,
  withTimeout,
  deferred,
  subscribed,
  uniq,
  signedInPusher,
} from './support/clients.js';
import { assertHttpError, assertSubscribed } from './support/assert.js';

const PREFIX = 'pogo_websocket'; // the default redis_prefix
const OTHER_PREFIX = 'other_deployment';

const redis = useRedis();
// node:test runs the before() hooks concurrently: each node waits for the redis-server
const broker = (...extra) => async () => ({ options: [`redis ${(await redis.started).url}`, 'client_events on', ...extra] });
const named = (name, config) => async () => ({ ...(await config()), name });

const nodeA = useServer(named('node A', broker()));
const nodeB = useServer(named('node B', broker(`redis_prefix ${PREFIX}`)));
const nodeC = useServer(named('node C', broker('broker_queue 1000')));
const other1 = useServer(named('other deployment 1', broker(`redis_prefix ${OTHER_PREFIX}`)));
const other2 = useServer(named('other deployment 2', broker(`redis_prefix ${OTHER_PREFIX}`)));
const solo = useServer({ name: 'no broker', options: ['client_events on'] });

const nodes = () => [nodeA, nodeB, nodeC];
const brokered = () => [nodeA, nodeB, nodeC, other1, other2];
const label = (node) => node.name;

const alice = { user_id: 'u-alice', user_info: { name: 'Alice' } };
const bob = { user_id: 'u-bob', user_info: { name: 'Bob' } };

// ---------------------------------------------------------------------------------------------
// Helpers

async function health(node) {
  const res = await httpRequest(node, { path: '/pogo/health', timeout: 2000 });
  assert.equal(res.status, 200, `${label(node)} GET /pogo/health: HTTP ${res.status} ${res.body}`);
  assert.ok(res.json && typeof res.json === 'object', `${label(node)} health is not JSON: ${res.body}`);
  return res.json;
}

const allBrokers = (state, timeout, list = brokered()) => Promise.all(list.map((n) => brokerBecomes(n, state, timeout)));

// A raw client on `node` subscribed to `channel` (signed as the prefix requires).
async function listener(node, channel, member = alice) {
  const ws = await RawClient.connect(node);
  let reply;
  if (channel.startsWith('presence-')) reply = await ws.subscribePresence(channel, member, node.app);
  else if (channel.startsWith('private-')) reply = await ws.subscribePrivate(channel, node.app);
  else reply = await ws.subscribe(channel, { auth: '' });
  assertSubscribed(reply, channel);
  ws.node = node;
  return ws;
}

// Waits for a frame/message matching `pred` on a RawClient or a pusher-js client.
function arrives(client, pred, what, timeout = 3000) {
  if (client instanceof RawClient) return client.next(pred, { timeout, what, fromStart: true });
  return nextMessage(client, pred, { timeout, what });
}

// Publishes a sentinel to `channel` from each node of `from` in turn, each one awaited on every
// client of `watchers` before the next. Afterwards, whatever the earlier publishes were to cause
// on these clients has arrived.
async function settle(channel, watchers, from = nodes()) {
  for (const node of from) {
    const id = uniq('sentinel-');
    await publish(node, { channel, name: 'sentinel', data: { id } });
    await Promise.all(
      watchers.map((w) =>
        arrives(w, (f) => f.event === 'sentinel' && f.channel === channel && parseMaybe(f.data)?.id === id, `the sentinel from ${label(node)}`),
      ),
    );
  }
}

const countOf = (client, event, channel) =>
  client instanceof RawClient
    ? client.received(event, channel).length
    : client.received.filter((m) => m.event === event && (channel === undefined || m.channel === channel)).length;

// Subscribes a raw client and returns the frames from subscription_succeeded up to the pong of a
// ping sent right after it: exactly what the subscribe produced.
async function subscribeAndCollect(node, channel) {
  const ws = await RawClient.connect(node);
  const reply = await ws.subscribe(channel, { auth: '' });
  assertSubscribed(reply, channel);
  const start = ws.frames.indexOf(reply);
  const pong = await ws.ping();
  return ws.frames.slice(start + 1, ws.frames.indexOf(pong));
}

// ---------------------------------------------------------------------------------------------
// Health

test('GET /pogo/health reports "broker":"up" on every node once its Redis subscription is confirmed, and no "broker" field on a node without redis', async () => {
  for (const node of brokered()) {
    const h = await brokerBecomes(node, 'up', 10_000);
    assert.equal(h.status, 'ok', JSON.stringify(h));
    assert.equal(h.alive, true, JSON.stringify(h));
    assert.equal(typeof h.connections, 'number', JSON.stringify(h));
  }
  const h = await health(solo);
  assert.equal(h.status, 'ok', JSON.stringify(h));
  assert.ok(!('broker' in h), `a node without a broker reports one: ${JSON.stringify(h)}`);
});

// ---------------------------------------------------------------------------------------------
// HTTP API publishes

test('an SDK trigger on node A reaches pusher-js subscribers on nodes A, B and C exactly once each', async () => {
  await allBrokers('up', 10_000);
  const name = uniq('orders-');
  const clients = await Promise.all(nodes().map((n) => connectPusher(n)));
  const channels = await Promise.all(clients.map((c) => subscribe(c, name)));
  const got = channels.map((ch) => nextEvent(ch, 'order-shipped'));
  const res = await sdkResult(createPublisher(nodeA).trigger(name, 'order-shipped', { id: 42, items: ['a', 'b'] }));
  assert.equal(res.status, 200, res.body);
  for (const g of got) assert.deepEqual((await g).data, { id: 42, items: ['a', 'b'] });
  await settle(name, clients);
  clients.forEach((c, i) => assert.equal(countOf(c, 'order-shipped', name), 1, `pusher-js on ${label(nodes()[i])}`));
});

test('a subscriber on another node gets the very frame a subscriber on the publishing node gets', async () => {
  await allBrokers('up', 10_000);
  const channel = uniq('frames-');
  const local = await listener(nodeB, channel);
  const remote = await listener(nodeC, channel);
  const payload = JSON.stringify({ text: 'quote " backslash \\ newline \n unicode é ☃ 😀 </script>', n: 1.5, nil: null });
  await createPublisher(nodeB).trigger(channel, 'App\\Events\\Thing', payload);
  const frame = await remote.nextEvent('App\\Events\\Thing');
  assert.deepEqual(frame, { event: 'App\\Events\\Thing', channel, data: payload });
  await local.nextEvent('App\\Events\\Thing');
  const raw = (ws) => ws.rawFrames.find((f) => f.text.includes('App\\\\Events\\\\Thing')).text;
  assert.equal(raw(remote), raw(local));
});

test('an SDK trigger to several channels on node B reaches each channel on nodes A and C once per channel', async () => {
  await allBrokers('up', 10_000);
  const [a, b] = [uniq('multi-a-'), uniq('multi-b-')];
  const watchers = [];
  for (const node of [nodeA, nodeC]) {
    const ws = await listener(node, a);
    assertSubscribed(await ws.subscribe(b, { auth: '' }), b);
    watchers.push(ws);
  }
  const res = await sdkResult(createPublisher(nodeB).trigger([a, b], 'fanout', { n: 7 }));
  assert.equal(res.status, 200, res.body);
  for (const ws of watchers) {
    await ws.nextEvent('fanout', { channel: a });
    await ws.nextEvent('fanout', { channel: b });
  }
  await settle(a, watchers);
  for (const ws of watchers) {
    assert.deepEqual(ws.received('fanout').map((f) => f.channel).sort(), [a, b].sort(), label(ws.node));
  }
});

test('triggerBatch on node B delivers every event of the batch to subscribers on nodes A and C', async () => {
  await allBrokers('up', 10_000);
  const [a, b] = [uniq('batch-a-'), uniq('batch-b-')];
  const onA = await listener(nodeA, a);
  const onC = await listener(nodeC, b);
  const res = await sdkResult(
    createPublisher(nodeB).triggerBatch([
      { channel: a, name: 'one', data: { n: 1 } },
      { channel: b, name: 'two', data: { n: 2 } },
      { channel: a, name: 'three', data: { n: 3 } },
    ]),
  );
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(parseMaybe((await onA.nextEvent('one')).data), { n: 1 });
  assert.deepEqual(parseMaybe((await onA.nextEvent('three')).data), { n: 3 });
  assert.deepEqual(parseMaybe((await onC.nextEvent('two')).data), { n: 2 });
  await settle(a, [onA]);
  await settle(b, [onC]);
  assert.equal(onA.received('one').length, 1);
  assert.equal(onA.received('three').length, 1);
  assert.deepEqual(onA.received('two'), []);
  assert.equal(onC.received('two').length, 1);
});

test('socket_id exclusion crosses nodes: a trigger on node A with the socket_id of a connection on node B skips it and reaches the others', async () => {
  await allBrokers('up', 10_000);
  const name = uniq('exclude-');
  const excluded = await connectPusher(nodeB);
  const others = await Promise.all([nodeA, nodeB, nodeC].map((n) => connectPusher(n)));
  await subscribe(excluded, name);
  const channels = await Promise.all(others.map((c) => subscribe(c, name)));
  const got = channels.map((ch) => nextEvent(ch, 'excluded-event'));
  const res = await sdkResult(
    createPublisher(nodeA).trigger(name, 'excluded-event', { a: 1 }, { socket_id: excluded.connection.socket_id }),
  );
  assert.equal(res.status, 200, res.body);
  for (const g of got) assert.deepEqual((await g).data, { a: 1 });
  await settle(name, [excluded, ...others]);
  assert.equal(countOf(excluded, 'excluded-event'), 0, `excluded socket received: ${JSON.stringify(excluded.received)}`);
  for (const c of others) assert.equal(countOf(c, 'excluded-event'), 1);
});

test('a per-event socket_id of triggerBatch on node C excludes a connection on node A for that event only', async () => {
  await allBrokers('up', 10_000);
  const channel = uniq('batch-excl-');
  const ws = await listener(nodeA, channel);
  const peer = await listener(nodeB, channel);
  const res = await sdkResult(
    createPublisher(nodeC).triggerBatch([
      { channel, name: 'skipped', data: {}, socket_id: ws.socketId },
      { channel, name: 'kept', data: {} },
    ]),
  );
  assert.equal(res.status, 200, res.body);
  await ws.nextEvent('kept');
  await peer.nextEvent('skipped');
  await settle(channel, [ws, peer]);
  assert.deepEqual(ws.received('skipped'), []);
  assert.equal(peer.received('skipped').length, 1);
});

// ---------------------------------------------------------------------------------------------
// Client events

test('a client event on a private channel from node A reaches the subscribers on nodes A, B and C once and is not echoed to the sender', async () => {
  await allBrokers('up', 10_000);
  const channel = uniq('private-chat-');
  const sender = await listener(nodeA, channel);
  const peers = [await listener(nodeA, channel), await listener(nodeB, channel), await listener(nodeC, channel)];
  sender.send({ event: 'client-typing', channel, data: { id: 123, name: 'Joe Dixon' } });
  for (const peer of peers) {
    const frame = await peer.nextEvent('client-typing', { channel });
    assert.deepEqual(parseMaybe(frame.data), { id: 123, name: 'Joe Dixon' }, label(peer.node));
    assert.equal(frame.user_id, undefined, 'no user_id on private channels');
  }
  await settle(channel, [sender, ...peers]);
  assert.deepEqual(sender.received('client-typing'), [], 'a client event must not be echoed to its sender');
  assert.deepEqual(sender.received('pusher:error'), []);
  for (const peer of peers) assert.equal(peer.received('client-typing').length, 1, label(peer.node));
});

test('pusher-js trigger("client-…") on node B is delivered to a pusher-js client on node A', async () => {
  await allBrokers('up', 10_000);
  const name = uniq('private-js-');
  const one = await connectPusher(nodeB);
  const two = await connectPusher(nodeA);
  const ch1 = await subscribe(one, name);
  const ch2 = await subscribe(two, name);
  const got = nextEvent(ch2, 'client-msg');
  assert.equal(ch1.trigger('client-msg', { text: 'hello' }), true);
  assert.deepEqual((await got).data, { text: 'hello' });
});

test('a client event on a presence channel carries the sender user_id to subscribers on other nodes', async () => {
  await allBrokers('up', 10_000);
  const name = uniq('presence-chat-');
  const one = await connectPusher(nodeA, { presence: alice });
  const two = await connectPusher(nodeB, { presence: bob });
  const three = await connectPusher(nodeC, { presence: bob });
  const ch1 = await subscribe(one, name);
  const ch2 = await subscribe(two, name);
  const ch3 = await subscribe(three, name);
  const got2 = nextEvent(ch2, 'client-wave');
  const got3 = nextEvent(ch3, 'client-wave');
  ch1.trigger('client-wave', { hi: true });
  for (const [got, client] of [[got2, two], [got3, three]]) {
    const { data, metadata } = await got;
    assert.deepEqual(data, { hi: true });
    assert.equal(String(metadata.user_id), 'u-alice');
    const frame = client.received.find((m) => m.event === 'client-wave');
    assert.equal(String(frame.user_id), 'u-alice', 'user_id on the wire');
  }
  await settle(name, [one, two, three]);
  assert.equal(countOf(one, 'client-wave'), 0, 'echoed to the sender');
  assert.equal(countOf(two, 'client-wave'), 1);
  assert.equal(countOf(three, 'client-wave'), 1);
});

test('Laravel Echo: whisper on node A is heard by listenForWhisper on node B, and listen() on node C gets a broadcast from node A except with toOthers', async () => {
  await allBrokers('up', 10_000);
  const name = uniq('chat.');
  const echoes = [];
  for (const node of [nodeA, nodeB, nodeC]) {
    const echo = createEcho(await connectPusher(node));
    echoes.push(echo);
  }
  const [ea, eb, ec] = echoes;
  const channels = echoes.map((e) => e.private(name));
  await Promise.all(channels.map((c) => subscribed(c.subscription)));

  const heard = deferred();
  channels[1].listenForWhisper('typing', (e) => heard.resolve(e));
  channels[0].whisper('typing', { name: 'Alice' });
  assert.deepEqual(await withTimeout(heard.promise, 3000, 'the whisper on node B'), { name: 'Alice' });

  const onB = deferred();
  const onC = deferred();
  channels[1].listen('MessageSent', (e) => onB.resolve(e));
  channels[2].listen('MessageSent', (e) => onC.resolve(e));
  // toOthers: Laravel passes Echo.socketId() of the sender (here the one on node C) as socket_id
  const res = await sdkResult(
    createPublisher(nodeA).trigger(`private-${name}`, 'App\\Events\\MessageSent', { text: 'hi' }, { socket_id: ec.socketId() }),
  );
  assert.equal(res.status, 200, res.body);
  assert.deepEqual(await withTimeout(onB.promise, 3000, 'MessageSent on node B'), { text: 'hi' });
  await settle(`private-${name}`, echoes.map((e) => e.connector.pusher));
  assert.equal(countOf(ec.connector.pusher, 'App\\Events\\MessageSent'), 0, 'toOthers: the sender on node C got its own event');
  assert.equal(countOf(eb.connector.pusher, 'App\\Events\\MessageSent'), 1);
  assert.equal(countOf(ea.connector.pusher, 'client-typing'), 0, 'whisper echoed to its sender');
});

// ---------------------------------------------------------------------------------------------
// Users and cache channels

test('sendToUser on node A reaches the user on nodes B and C once per connection, and no other user', async () => {
  await allBrokers('up', 10_000);
  const id = uniq('u');
  const otherId = uniq('u');
  const tabB = await signedInPusher(nodeB, { id });
  const tabC = await signedInPusher(nodeC, { id });
  const other = await signedInPusher(nodeB, { id: otherId });
  const got = [nextEvent(tabB.user, 'notice'), nextEvent(tabC.user, 'notice')];
  const publisher = createPublisher(nodeA);
  const res = await sdkResult(publisher.sendToUser(id, 'notice', { text: 'for you' }));
  assert.equal(res.status, 200, res.body);
  for (const g of got) assert.deepEqual((await g).data, { text: 'for you' });
  // sentinels to both users from every node
  for (const node of nodes()) {
    const sentinel = uniq('s');
    const waits = [tabB, tabC].map((c) => nextMessage(c, (m) => m.event === sentinel, { what: sentinel }));
    const otherWait = nextMessage(other, (m) => m.event === sentinel, { what: sentinel });
    await createPublisher(node).sendToUser(id, sentinel, {});
    await createPublisher(node).sendToUser(otherId, sentinel, {});
    await Promise.all([...waits, otherWait]);
  }
  assert.equal(countOf(tabB, 'notice'), 1);
  assert.equal(countOf(tabC, 'notice'), 1);
  assert.equal(countOf(other, 'notice'), 0, 'another user received a server-to-user event');
});

test('terminateUserConnections on node A closes that user\'s connections on nodes B and C, and no one else\'s', async () => {
  await allBrokers('up', 10_000);
  const id = uniq('doomed-');
  const doomed = [];
  for (const node of [nodeB, nodeC]) {
    const ws = await RawClient.connect(node);
    assert.equal((await ws.signin({ id }, node.app)).event, 'pusher:signin_success');
    doomed.push(ws);
  }
  const present = await listener(nodeC, uniq('presence-room-'), { user_id: id, user_info: {} });
  const spared = await RawClient.connect(nodeB);
  assert.equal((await spared.signin({ id: uniq('spared-') }, nodeB.app)).event, 'pusher:signin_success');

  const res = await sdkResult(createPublisher(nodeA).terminateUserConnections(id));
  assert.equal(res.status, 200, res.body);
  for (const ws of [...doomed, present]) {
    const closed = await withTimeout(ws.closedPromise, 3000, `the connection of ${id} on ${label(ws.node ?? nodeB)} to close`);
    assert.equal(closed.code, 4009, JSON.stringify(closed));
  }
  await spared.ping();
  assert.equal(spared.closed, null, 'another user was disconnected');
});

test('a new subscriber of a cache channel on node B gets the last event published on node A', async () => {
  await allBrokers('up', 10_000);
  const channel = uniq('cache-last-');
  // a watcher on nodes B and C on another channel: once the marker published after the cache
  // events reaches it, those nodes have handled the cache events too
  const marker = uniq('marker-');
  const watchers = [await listener(nodeB, marker), await listener(nodeC, marker)];
  await publish(nodeA, { channel, name: 'first', data: '{"n":1}' });
  await publish(nodeA, { channel, name: 'second', data: '{"n":2}' });
  await publish(nodeA, { channel: marker, name: 'marker', data: '{}' });
  for (const w of watchers) await w.nextEvent('marker');
  for (const node of [nodeB, nodeC]) {
    assert.deepEqual(await subscribeAndCollect(node, channel), [{ event: 'second', channel, data: '{"n":2}' }], label(node));
  }
});

test('pusher-js on node C receives the cached event of a cache channel published through the SDK on node B', async () => {
  await allBrokers('up', 10_000);
  const name = uniq('cache-js-');
  const marker = uniq('marker-');
  const watcher = await listener(nodeC, marker);
  await createPublisher(nodeB).trigger(name, 'price', { eur: 10 });
  await createPublisher(nodeB).trigger(marker, 'marker', {});
  await watcher.nextEvent('marker');
  const client = await connectPusher(nodeC);
  const ch = client.subscribe(name);
  assert.deepEqual((await nextEvent(ch, 'price')).data, { eur: 10 });
});

// ---------------------------------------------------------------------------------------------
// Prefixes

test(`events of an app travel on the Redis channel <prefix>:<app id> (${PREFIX}:app-id by default)`, async () => {
  await allBrokers('up', 10_000);
  const monitor = await redis.monitor('*');
  try {
    const channel = uniq('wire-');
    await publish(nodeA, { channel, name: 'on-the-wire', data: '{}' });
    const msg = await monitor.next((m) => m.data.includes(Buffer.from(channel)), { what: `a Redis message carrying ${channel}` });
    assert.equal(msg.channel, `${PREFIX}:${nodeA.app.id}`);
    const otherChannel = uniq('wire-other-');
    await publish(other1, { channel: otherChannel, name: 'on-the-wire', data: '{}' });
    const other = await monitor.next((m) => m.data.includes(Buffer.from(otherChannel)), { what: `a Redis message carrying ${otherChannel}` });
    assert.equal(other.channel, `${OTHER_PREFIX}:${other1.app.id}`);
  } finally {
    monitor.close();
  }
});

test('two deployments with different redis_prefix on the same Redis do not see each other\'s events', async () => {
  await allBrokers('up', 10_000);
  const channel = uniq('private-shared-name-');
  const main = [await listener(nodeA, channel), await listener(nodeB, channel)];
  const others = [await listener(other1, channel), await listener(other2, channel)];
  // HTTP publishes, one per deployment, each awaited on the other node of its deployment
  await publish(nodeA, { channel, name: 'from-main', data: '{}' });
  await main[1].nextEvent('from-main');
  await publish(other1, { channel, name: 'from-other', data: '{}' });
  await others[1].nextEvent('from-other');
  // client events, likewise
  main[0].send({ event: 'client-main', channel, data: {} });
  await main[1].nextEvent('client-main');
  others[0].send({ event: 'client-other', channel, data: {} });
  await others[1].nextEvent('client-other');
  await settle(channel, main, [nodeA, nodeB]);
  await settle(channel, others, [other1, other2]);
  for (const ws of main) {
    assert.deepEqual(ws.received('from-other'), [], `${label(ws.node)} got the other deployment's event`);
    assert.deepEqual(ws.received('client-other'), [], `${label(ws.node)} got the other deployment's client event`);
  }
  for (const ws of others) {
    assert.deepEqual(ws.received('from-main'), [], `${label(ws.node)} got the main deployment's event`);
    assert.deepEqual(ws.received('client-main'), [], `${label(ws.node)} got the main deployment's client event`);
  }
});

// ---------------------------------------------------------------------------------------------
// Garbage on the Redis channel

test('garbage published to the app\'s Redis channel is ignored: no crash, connections stay open, later events still flow', async () => {
  await allBrokers('up', 10_000);
  const redisChannel = `${PREFIX}:${nodeA.app.id}`;
  const channel = uniq('garbage-');
  const watchers = await Promise.all(nodes().map((n) => listener(n, channel)));

  // a genuine record, captured from the wire, to truncate
  const monitor = await redis.monitor(redisChannel);
  let record;
  try {
    await publish(nodeA, { channel, name: 'genuine', data: '{"ok":true}' });
    record = (await monitor.next((m) => m.data.includes(Buffer.from(channel)), { what: 'the genuine record on Redis' })).data;
  } finally {
    monitor.close();
  }
  for (const ws of watchers) await ws.nextEvent('genuine');

  let seed = 12345;
  const random = (n) => Buffer.from(Array.from({ length: n }, () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) & 0xff));
  const junk = [
    'garbage',
    '',
    '{}',
    '{"event":"x","channel":1}',
    'null',
    '[]',
    Buffer.from([0x00]),
    Buffer.from([0xff, 0xfe, 0xfd, 0x00, 0x01]),
    random(7),
    random(64),
    random(4096),
    Buffer.alloc(70_000, 0xff),
  ];
  // truncated messages: every length from 0 to the message's length minus 1 (node A skips its
  // own node id: these reach the parsers of B and C)
  const step = Math.max(1, Math.ceil(record.length / 400));
  for (let n = 0; n < record.length; n += step) junk.push(record.subarray(0, n));
  // the same behind the version byte and a node id no node has (a message is one version byte,
  // the sender's 8-byte node id and 2-byte engine shard, then the relay record): these reach the
  // records' parser on every node, A included
  const foreign = Buffer.concat([record.subarray(0, 1), Buffer.alloc(8, 0x42), Buffer.from([0, 0])]);
  const body = record.subarray(11);
  for (let n = 0; n < body.length; n += step) junk.push(Buffer.concat([foreign, body.subarray(0, n)]));
  junk.push(
    foreign,
    Buffer.concat([foreign, Buffer.from([0xff, 0xff])]),
    Buffer.concat([foreign, Buffer.from([0xff, 0xff]), body]),
    Buffer.concat([foreign, random(64)]),
    Buffer.concat([foreign, random(4096)]),
  );
  const conn = await redis.connect();
  try {
    for (const message of junk) {
      const receivers = await conn.command(['PUBLISH', redisChannel, message]);
      assert.ok(receivers >= nodes().length, `only ${receivers} Redis subscribers got the junk: the nodes are not subscribed to ${redisChannel}`);
    }
  } finally {
    conn.close();
  }

  // every node is alive, still subscribed, and its connections still work
  for (const node of nodes()) {
    assert.equal(node.exited(), null, `${label(node)} exited:\n${node.output().slice(-3000)}`);
    const h = await health(node);
    assert.equal(h.alive, true, JSON.stringify(h));
    assert.equal(h.broker, 'up', `${label(node)}: ${JSON.stringify(h)}`);
  }
  for (const ws of watchers) {
    await ws.ping();
    assert.equal(ws.closed, null);
  }
  // later events flow from every node to every node, and the junk delivered nothing
  await settle(channel, watchers);
  const privateChannel = uniq('private-after-garbage-');
  const sender = await listener(nodeB, privateChannel);
  const peer = await listener(nodeC, privateChannel);
  sender.send({ event: 'client-after-junk', channel: privateChannel, data: { n: 1 } });
  await peer.nextEvent('client-after-junk');
  for (const ws of watchers) {
    const names = ws.frames
      .filter((f) => f.channel === channel && !f.event.startsWith('pusher'))
      .map((f) => f.event);
    assert.deepEqual(names, ['genuine', 'sentinel', 'sentinel', 'sentinel'], `${label(ws.node)} got frames from the junk`);
  }
});

// ---------------------------------------------------------------------------------------------
// Redis outage (last: they kill the shared redis-server, and start it again)

test('when Redis dies every node reports "broker":"down", refuses HTTP publishes with 503, keeps its WebSockets open and still delivers client events locally', async () => {
  await allBrokers('up', 10_000);
  const channel = uniq('private-outage-');
  const sender = await listener(nodeA, channel);
  const localPeer = await listener(nodeA, channel);
  const remotePeer = await listener(nodeB, channel);
  const pusherClient = await connectPusher(nodeC);
  await subscribe(pusherClient, channel);
  try {
    await redis.kill();
    await allBrokers('down', 5000);

    for (const node of brokered()) {
      const res = await signedRequest(node, { path: `/apps/${node.app.id}/events`, body: { name: 'refused', channel, data: '{}' } });
      assertHttpError(res, 503);
      const batch = await signedRequest(node, {
        path: `/apps/${node.app.id}/batch_events`,
        body: { batch: [{ name: 'refused', channel, data: '{}' }] },
      });
      assertHttpError(batch, 503);
    }
    // the pusher SDK's trigger and triggerBatch reject with the 503
    const publisher = createPublisher(nodeA);
    await assert.rejects(publisher.trigger(channel, 'refused', {}), (err) => err.status === 503);
    const sdk = await sdkResult(publisher.trigger(channel, 'refused', {}));
    assertHttpError(sdk, 503);
    const sdkBatch = await sdkResult(createPublisher(nodeB).triggerBatch([{ channel, name: 'refused', data: {} }]));
    assertHttpError(sdkBatch, 503);

    // WebSockets stay open and in order; client events still reach the same node
    for (const ws of [sender, localPeer, remotePeer]) await ws.ping();
    assert.equal(pusherClient.connection.state, 'connected');
    sender.send({ event: 'client-while-down', channel, data: { n: 1 } });
    assert.deepEqual(parseMaybe((await localPeer.nextEvent('client-while-down')).data), { n: 1 });
    await sender.ping();
    assert.deepEqual(sender.received('client-while-down'), [], 'echoed to the sender while Redis is down');
    assert.deepEqual(sender.received('pusher:error'), []);
    for (const ws of [sender, localPeer, remotePeer]) assert.equal(ws.closed, null);
    for (const ws of [sender, localPeer, remotePeer]) assert.deepEqual(ws.received('refused'), [], 'a refused publish was delivered');
    for (const node of brokered()) assert.equal(node.exited(), null, `${label(node)} exited`);
  } finally {
    if (redis.exited) await redis.start();
    await allBrokers('up', 20_000);
  }
});

test('when Redis is started again on the same port every node reports "broker":"up" again and cross-node delivery resumes on the connections opened before', async () => {
  await allBrokers('up', 10_000);
  const channel = uniq('private-recover-');
  const onA = await listener(nodeA, channel);
  const onB = await listener(nodeB, channel);
  const onC = await listener(nodeC, channel);
  await redis.kill();
  await allBrokers('down', 5000);
  await redis.start();
  await allBrokers('up', 20_000);

  const res = await sdkResult(createPublisher(nodeA).trigger(channel, 'after-outage', { n: 1 }));
  assert.equal(res.status, 200, res.body);
  for (const ws of [onA, onB, onC]) assert.deepEqual(parseMaybe((await ws.nextEvent('after-outage')).data), { n: 1 });
  const batch = await sdkResult(createPublisher(nodeC).triggerBatch([{ channel, name: 'batch-after-outage', data: {} }]));
  assert.equal(batch.status, 200, batch.body);
  for (const ws of [onA, onB, onC]) await ws.nextEvent('batch-after-outage');
  onB.send({ event: 'client-after-outage', channel, data: { n: 2 } });
  await onA.nextEvent('client-after-outage');
  await onC.nextEvent('client-after-outage');
  await settle(channel, [onA, onB, onC]);
  for (const ws of [onA, onB, onC]) {
    assert.equal(ws.received('after-outage').length, 1, label(ws.node));
    assert.equal(ws.received('batch-after-outage').length, 1, label(ws.node));
  }
  assert.deepEqual(onB.received('client-after-outage'), [], 'echoed to the sender');
  for (const ws of [onA, onC]) assert.equal(ws.received('client-after-outage').length, 1, label(ws.node));
});
