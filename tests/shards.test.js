// Engine shards (`num_shards 4`): what clients and the HTTP API see stays exact whatever shard
// each connection is on. A new connection goes to the shard with the fewest connections, so on a
// fresh server the clients a test opens one after another are on shards 0, 1, 2, 3: presence
// rosters and member events, subscription counts and `occupied`, socket_id exclusion,
// terminate_connections, cache channels and webhooks cross shards exactly, and the HTTP API
// answers right after a client was told it subscribed, whatever shard answers it. With
// `shard_queue_size`, a publish the full queue cannot take is answered 503.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer } from './support/server.js';
import { useWebhookReceiver } from './support/webhooks.js';
import { RawClient, closeAllClients, createPublisher, publish, sdkResult, signedRequest, uniq } from './support/clients.js';
import { assertSubscribed } from './support/assert.js';

const SHARDS = 4;
const hooks = useWebhookReceiver();
const servers = [];
after(async () => {
  await closeAllClients();
  for (const s of servers) await s.stop();
});

async function start(name, options = []) {
  const server = await startServer({ name, options: [`num_shards ${SHARDS}`, ...options] });
  servers.push(server);
  return server;
}

// `n` raw clients opened one after another: on a fresh server, one per shard.
async function clients(server, n = SHARDS) {
  const out = [];
  for (let i = 0; i < n; i++) out.push(await RawClient.connect(server));
  return out;
}

async function api(server, path, query = {}) {
  const res = await signedRequest(server, { path: `/apps/${server.app.id}${path}`, query });
  assert.equal(res.status, 200, res.body);
  return res.json;
}

test('presence across shards: each roster has every earlier member, member_added and member_removed reach every shard, and users is exact at once', async () => {
  const server = await start('presence');
  const room = `presence-${uniq('room-')}`;
  const conns = await clients(server);
  for (let i = 0; i < conns.length; i++) {
    const reply = await conns[i].subscribePresence(room, { user_id: `u${i}`, user_info: { i } }, server.app);
    assert.equal(reply.event, 'pusher_internal:subscription_succeeded', JSON.stringify(reply));
    const presence = JSON.parse(reply.data).presence;
    assert.equal(presence.count, i + 1, `client ${i}'s roster: ${reply.data}`);
    assert.deepEqual([...presence.ids].sort(), Array.from({ length: i + 1 }, (_, j) => `u${j}`));
    // Asked right after subscription_succeeded, whatever shard answers: the new member is there.
    const users = await api(server, `/channels/${room}/users`);
    assert.deepEqual(users.users.map((u) => u.id).sort(), Array.from({ length: i + 1 }, (_, j) => `u${j}`));
    for (let j = 0; j < i; j++) {
      const added = await conns[j].nextEvent('pusher_internal:member_added', { channel: room });
      assert.equal(JSON.parse(added.data).user_id, `u${i}`);
    }
  }
  const info = await api(server, `/channels/${room}`, { info: 'user_count' });
  assert.equal(info.user_count, SHARDS);

  await conns[3].close();
  for (const c of conns.slice(0, 3)) {
    const removed = await c.nextEvent('pusher_internal:member_removed', { channel: room });
    assert.equal(JSON.parse(removed.data).user_id, 'u3');
  }
  assert.equal((await api(server, `/channels/${room}`, { info: 'user_count' })).user_count, 3);
});

test('subscription counts and occupied across shards are exact right after each subscribe, and after the last leaves', async () => {
  const server = await start('counts');
  const channel = uniq('counted-');
  const conns = await clients(server);
  for (let i = 0; i < conns.length; i++) {
    assertSubscribed(await conns[i].subscribe(channel, { auth: '' }), channel);
    const info = await api(server, `/channels/${channel}`, { info: 'subscription_count' });
    assert.deepEqual(info, { occupied: true, subscription_count: i + 1 });
  }
  const list = await api(server, '/channels', { filter_by_prefix: channel });
  assert.deepEqual(Object.keys(list.channels), [channel]);

  for (const c of conns) c.send({ event: 'pusher:unsubscribe', data: { channel } });
  const deadline = Date.now() + 3000;
  let info;
  do {
    info = await api(server, `/channels/${channel}`, { info: 'subscription_count' });
  } while (info.occupied && Date.now() < deadline);
  assert.deepEqual(info, { occupied: false, subscription_count: 0 });
});

test('socket_id exclusion skips exactly the excluded connection, whatever its shard', async () => {
  const server = await start('exclusion');
  const channel = uniq('excl-');
  const conns = await clients(server);
  for (const c of conns) assertSubscribed(await c.subscribe(channel, { auth: '' }), channel);
  const excluded = conns[2];
  const res = await publish(server, { name: 'tick', channel, data: '1', socket_id: excluded.socketId });
  assert.equal(res.status, 200, res.body);
  await publish(server, { name: 'done', channel, data: '2' });
  for (const c of conns) await c.nextEvent('done', { channel });
  for (const c of conns) {
    assert.equal(c.received('tick', channel).length, c === excluded ? 0 : 1, `client ${conns.indexOf(c)}`);
  }
});

test('terminate_connections closes the user on every shard and nobody else', async () => {
  const server = await start('terminate');
  const user = uniq('doomed-');
  const conns = await clients(server);
  for (const [i, c] of conns.entries()) {
    const reply = await c.signin({ id: i < 3 ? user : uniq('spared-') }, server.app);
    assert.equal(reply.event, 'pusher:signin_success');
  }
  const res = await sdkResult(createPublisher(server).terminateUserConnections(user));
  assert.equal(res.status, 200, res.body);
  for (const c of conns.slice(0, 3)) {
    const err = await c.nextEvent('pusher:error');
    assert.equal(JSON.parse(typeof err.data === 'string' ? err.data : JSON.stringify(err.data)).code, 4009);
    await c.waitClose();
  }
  assert.equal(conns[3].closed, null, 'the other user stays connected');
  assertSubscribed(await conns[3].subscribe('still-here', { auth: '' }), 'still-here');
});

test('a cache channel gives its last event to a new subscriber on every shard', async () => {
  const server = await start('cache');
  const channel = `cache-${uniq('c-')}`;
  const [first] = await clients(server, 1);
  assertSubscribed(await first.subscribe(channel, { auth: '' }), channel);
  const res = await publish(server, { name: 'last', channel, data: 'seven' });
  assert.equal(res.status, 200, res.body);
  await first.nextEvent('last', { channel });
  for (const c of await clients(server, SHARDS - 1)) {
    assertSubscribed(await c.subscribe(channel, { auth: '' }), channel);
    const cached = await c.nextEvent('last', { channel });
    assert.equal(cached.data, 'seven');
  }
});

test('webhooks fire once per transition, with subscribers on every shard', async () => {
  const r = await hooks.started;
  const path = `/${uniq('shards-')}`;
  const server = await start('webhooks', [`webhook ${r.url(path)}`]);
  const channel = uniq('hooked-');
  const room = `presence-${uniq('hooked-')}`;
  const conns = await clients(server);
  // All at once: each shard sees its own 0→1 and, a moment later, its siblings'.
  await Promise.all(conns.map(async (c) => assertSubscribed(await c.subscribe(channel, { auth: '' }), channel)));
  await Promise.all(
    conns.map(async (c) => {
      const reply = await c.subscribePresence(room, { user_id: 'same-user' }, server.app);
      assert.equal(reply.event, 'pusher_internal:subscription_succeeded');
    }),
  );
  await hooks.nextEvent((e) => e.name === 'channel_occupied' && e.channel === channel, { path });
  await hooks.nextEvent((e) => e.name === 'member_added' && e.channel === room, { path });
  for (const c of conns) await c.close();
  // channel_vacated and member_removed wait out their 3 s hold-back.
  await hooks.nextEvent((e) => e.name === 'channel_vacated' && e.channel === channel, { path, timeout: 8000 });
  await hooks.nextEvent((e) => e.name === 'member_removed' && e.channel === room, { path, timeout: 8000 });
  // A sentinel channel occupied and left after: once its channel_vacated is in, anything sent
  // before it is in too.
  const sentinel = uniq('sentinel-');
  const [s] = await clients(server, 1);
  assertSubscribed(await s.subscribe(sentinel, { auth: '' }), sentinel);
  await s.close();
  await hooks.nextEvent((e) => e.name === 'channel_vacated' && e.channel === sentinel, { path, timeout: 8000 });
  const count = (name, ch) => hooks.events((e) => e.name === name && e.channel === ch, { path }).length;
  assert.equal(count('channel_occupied', channel), 1);
  assert.equal(count('channel_vacated', channel), 1);
  assert.equal(count('member_added', room), 1);
  assert.equal(count('member_removed', room), 1);
});

test('shard_queue_size: a publish the full shard queue cannot take is answered 503, every accepted one is delivered', async () => {
  const server = await start('queue full', ['shard_queue_size 1']);
  const channel = uniq('flood-');
  const [c] = await clients(server, 1);
  assertSubscribed(await c.subscribe(channel, { auth: '' }), channel);
  const body = (i) => ({ name: 'n', channel, data: String(i) });
  const results = await Promise.all(
    Array.from({ length: 300 }, (_, i) => signedRequest(server, { path: `/apps/${server.app.id}/events`, body: body(i) })),
  );
  const refused = results.filter((r) => r.status === 503);
  const accepted = results.filter((r) => r.status === 200);
  assert.equal(refused.length + accepted.length, results.length, results.map((r) => r.status).join(','));
  assert.ok(refused.length > 0, 'no publish was refused with shard_queue_size 1');
  assert.match(refused[0].body, /Shard queue full/);
  assert.ok(accepted.length > 0, 'no publish was accepted');
  await publish(server, { name: 'done', channel, data: 'x' });
  await c.nextEvent('done', { channel, timeout: 10_000 });
  assert.equal(c.received('n', channel).length, accepted.length);
});
