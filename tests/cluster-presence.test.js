// Presence across nodes sharing one Redis: the roster (Echo here()), member_added and
// member_removed (joining()/leaving()), the member limit and the HTTP API's users and user_count
// cover every node's members, a user on several nodes is one member, a node that dies has its
// members leave everywhere within a few seconds, and a node started later gets everyone's.
// Reverb lists only the members of the node a client is connected to (laravel/reverb#273).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, startServer, brokerBecomes } from './support/server.js';
import { useRedis } from './support/redis.js';
import {
  RawClient,
  connectPusher,
  createEcho,
  createPublisher,
  sdkResult,
  deferred,
  nextMessage,
  parseMaybe,
  subscribe,
  uniq,
  withTimeout,
} from './support/clients.js';

const redis = useRedis();
// node:test runs the before() hooks concurrently: each node waits for the redis-server.
const node = (name, ...options) =>
  useServer(async () => ({ name, options: [`redis ${(await redis.started).url}`, 'max_presence_members 3', ...options] }));
const nodeA = node('node A');
const nodeB = node('node B');

const alice = { id: 1, name: 'Alice' };
const bob = { id: 2, name: 'Bob' };
const carol = { id: 3, name: 'Carol' };

async function echoOn(server, member) {
  const client = await connectPusher(server, { presence: { user_id: member.id, user_info: member } });
  const echo = createEcho(client);
  echo.client = client;
  return echo;
}

// A raw connection present as `member` in Echo's `room` on `server`. The nodes a test stops or
// kills get raw clients: pusher-js would keep retrying the dead node, and its retry timers
// outlive disconnect() and keep the test process alive.
async function rawMember(server, room, member) {
  const ws = await RawClient.connect(server);
  const reply = await ws.subscribePresence(`presence-${room}`, { user_id: member.id, user_info: member }, server.app);
  assert.equal(reply.event, 'pusher_internal:subscription_succeeded', JSON.stringify(reply));
  return ws;
}

// Joins `room` with Echo and resolves with here()'s list, sorted by id; joining() and leaving()
// calls are recorded on the returned object.
async function join(echo, room) {
  const here = deferred();
  const seen = { joining: [], leaving: [], changed: deferred() };
  echo
    .join(room)
    .here((users) => here.resolve([...users].sort((x, y) => x.id - y.id)))
    .joining((u) => {
      seen.joining.push(u);
      seen.changed.resolve();
    })
    .leaving((u) => {
      seen.leaving.push(u);
      seen.changed.resolve();
    });
  seen.here = await withTimeout(here.promise, 3000, `here() on ${room}`);
  return seen;
}

// Resolves once `cond()` holds, checking after every joining()/leaving() of `seen`.
async function until(seen, cond, what, timeout = 3000) {
  const deadline = Date.now() + timeout;
  while (!cond()) {
    seen.changed = deferred();
    if (cond()) break;
    await withTimeout(seen.changed.promise, Math.max(1, deadline - Date.now()), what);
  }
}

test('Echo here() on node B lists the members who joined on node A, and joining()/leaving() fire once across nodes', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up', 10_000), brokerBecomes(nodeB, 'up', 10_000)]);
  const room = uniq('room.');
  const a = await echoOn(nodeA, alice);
  const onA = await join(a, room);
  assert.deepEqual(onA.here, [alice]);

  const b = await echoOn(nodeB, bob);
  const onB = await join(b, room);
  assert.deepEqual(onB.here, [alice, bob], 'node B lists the member of node A');
  await until(onA, () => onA.joining.length === 1, 'joining() on node A');
  assert.deepEqual(onA.joining, [bob]);

  b.leave(room);
  await until(onA, () => onA.leaving.length === 1, 'leaving() on node A');
  assert.deepEqual(onA.leaving, [bob]);
  assert.deepEqual(onA.joining, [bob], 'no second joining()');
});

test('a user connected to both nodes is one member: one joining(), and leaving() only when the last connection goes', async () => {
  const room = uniq('room.');
  const watcher = await echoOn(nodeA, alice);
  const seen = await join(watcher, room);

  const carolA = await echoOn(nodeA, carol);
  await join(carolA, room);
  await until(seen, () => seen.joining.length === 1, 'joining() of carol');
  const carolB = await echoOn(nodeB, carol);
  const onB = await join(carolB, room);
  assert.deepEqual(onB.here, [alice, carol], 'carol is listed once');
  // Node B relays in order: once its later event reaches node A, so has carol's arrival there.
  const synced = nextMessage(watcher.client, (m) => m.event === 'synced', { what: 'the event from node B' });
  assert.equal((await sdkResult(createPublisher(nodeB).trigger(`presence-${room}`, 'synced', {}))).status, 200);
  await synced;

  carolA.leave(room);
  // carol is still on node B: a marker member shows that no leaving() came before it.
  const marker = await echoOn(nodeB, bob);
  await join(marker, room);
  await until(seen, () => seen.joining.length === 2, 'joining() of the marker');
  assert.deepEqual(seen.leaving, [], 'carol left node A but is still present on node B');

  carolB.leave(room);
  await until(seen, () => seen.leaving.length === 1, 'leaving() of carol');
  assert.deepEqual(seen.leaving, [carol]);
  assert.deepEqual(seen.joining, [carol, bob]);
});

test('the HTTP API on either node reports the members of both in users and user_count', async () => {
  const channel = uniq('presence-count-');
  const a = await connectPusher(nodeA, { presence: { user_id: 'ua', user_info: {} } });
  await subscribe(a, channel);
  const b = await connectPusher(nodeB, { presence: { user_id: 'ub', user_info: {} } });
  await subscribe(b, channel);
  await nextMessage(a, (m) => m.event === 'pusher_internal:member_added' && m.channel === channel, { what: 'ub on node A' });

  for (const server of [nodeA, nodeB]) {
    const users = await sdkResult(createPublisher(server).get({ path: `/channels/${channel}/users` }));
    assert.deepEqual(users.json.users.map((u) => u.id).sort(), ['ua', 'ub'], `users on ${server.name}`);
    const info = await sdkResult(createPublisher(server).get({ path: `/channels/${channel}`, params: { info: 'user_count' } }));
    assert.equal(info.json.user_count, 2, `user_count on ${server.name}`);
  }
});

// Polls GET /channels/{channel}/users on `server` until it lists `count` users.
async function usersBecome(server, channel, count, timeout = 5000) {
  const deadline = Date.now() + timeout;
  let ids;
  for (;;) {
    const res = await sdkResult(createPublisher(server).get({ path: `/channels/${channel}/users` }));
    ids = res.json.users.map((u) => u.id).sort();
    if (ids.length === count) return ids;
    if (Date.now() > deadline) throw new Error(`${server.name} lists ${JSON.stringify(ids)}, not ${count} users, after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test('max_presence_members counts the members of every node', async () => {
  const channel = uniq('presence-full-');
  for (const [server, id] of [[nodeA, 'm1'], [nodeB, 'm2'], [nodeA, 'm3']]) {
    const c = await connectPusher(server, { presence: { user_id: id, user_info: {} } });
    await subscribe(c, channel);
  }
  assert.deepEqual(await usersBecome(nodeB, channel, 3), ['m1', 'm2', 'm3']);
  const last = await connectPusher(nodeB, { presence: { user_id: 'm4', user_info: {} } });
  const refused = deferred();
  last.subscribe(channel).bind('pusher:subscription_error', refused.resolve);
  const err = await withTimeout(refused.promise, 3000, 'the fourth member to be refused');
  assert.equal(err.status, 4100, JSON.stringify(err));
});

test('the members of a node that dies leave on the other nodes within a few seconds', async () => {
  const room = uniq('room.');
  const doomed = await startServer({ name: 'node C', options: [`redis ${(await redis.started).url}`] });
  try {
    await brokerBecomes(doomed, 'up', 10_000);
    const watcher = await echoOn(nodeA, alice);
    const seen = await join(watcher, room);
    await rawMember(doomed, room, carol);
    await until(seen, () => seen.joining.length === 1, 'joining() of carol from node C');

    doomed.child.kill('SIGKILL'); // no goodbye: only its silence tells
    await until(seen, () => seen.leaving.length === 1, 'leaving() of carol after node C died', 10_000);
    assert.deepEqual(seen.leaving, [carol]);
  } finally {
    await doomed.stop();
  }
});

test('the members of a node that stops gracefully leave at once, well before its heartbeats are missed', async () => {
  const room = uniq('room.');
  const stopping = await startServer({ name: 'node E', options: [`redis ${(await redis.started).url}`] });
  try {
    await brokerBecomes(stopping, 'up', 10_000);
    const watcher = await echoOn(nodeA, alice);
    const seen = await join(watcher, room);
    await rawMember(stopping, room, carol);
    await until(seen, () => seen.joining.length === 1, 'joining() of carol from node E');

    // SIGTERM: node E closes its connections and relays the departures before it exits. A node
    // that is only missed is dropped 2.5 to 2.75 s after its last heartbeat.
    const started = Date.now();
    await stopping.stop();
    await until(seen, () => seen.leaving.length === 1, 'leaving() of carol once node E stopped', 1500 - (Date.now() - started));
    assert.deepEqual(seen.leaving, [carol]);
  } finally {
    await stopping.stop();
  }
});

test('a node started later lists the members already present on the others', async () => {
  const room = uniq('room.');
  const a = await echoOn(nodeA, alice);
  await join(a, room);
  const b = await echoOn(nodeB, bob);
  await join(b, room);

  const late = await startServer({ name: 'node D', options: [`redis ${(await redis.started).url}`] });
  try {
    await brokerBecomes(late, 'up', 10_000);
    // The others relay their members once node D subscribes.
    assert.deepEqual(await usersBecome(late, `presence-${room}`, 2), ['1', '2']);
    const c = await rawMember(late, room, carol);
    const roster = parseMaybe(c.frames.find((f) => f.event === 'pusher_internal:subscription_succeeded').data).presence;
    assert.deepEqual(roster.ids.map(String).sort(), ['1', '2', '3']);
    assert.deepEqual(roster.hash, { 1: alice, 2: bob, 3: carol });
  } finally {
    await late.stop();
  }
});

test('a departure lost while Redis restarts is repaired once the nodes subscribe again', async () => {
  const room = uniq('room.');
  const watcher = await echoOn(nodeA, alice);
  const seen = await join(watcher, room);
  const b = await echoOn(nodeB, bob);
  await join(b, room);
  await until(seen, () => seen.joining.length === 1, 'joining() of bob');

  await redis.kill();
  try {
    await brokerBecomes(nodeB, 'down', 10_000);
    b.leave(room); // its relay to node A is lost with Redis
  } finally {
    await redis.start(); // back within a second, well before node B's heartbeats are missed
  }
  await Promise.all([brokerBecomes(nodeA, 'up', 15_000), brokerBecomes(nodeB, 'up', 15_000)]);
  await until(seen, () => seen.leaving.length === 1, 'leaving() of bob after the restart', 10_000);
  assert.deepEqual(seen.leaving, [bob]);
});
