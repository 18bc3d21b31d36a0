// Anti-entropy across nodes: Redis Pub/Sub may lose any relay record, and every digest_interval
// each node relays a digest of its subscription counts, presence members and signed-in users; a
// node that holds something else for the sender asks for the difference and the sender's answer
// repairs it, with no node restart and no resubscription.
//
// The loss is made on purpose: node A runs with POGO_WEBSOCKET_FAULT_DROP_RELAY=4:1, the broker's
// fault-injection aid, so the first member_removed relay record it sends never reaches Redis, and
// node C with 10:1, so its first user offline record never does. The test's own subscriber on
// Redis checks that they really never got there.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, brokerBecomes } from './support/server.js';
import { useRedis } from './support/redis.js';
import { connectPusher, createEcho, createPublisher, deferred, nextEvent, sdkResult, signedInPusher, uniq, withTimeout } from './support/clients.js';

// A message on Redis: kind byte 1 (record), the sender's 8-byte node id and 2-byte engine shard,
// then the relay record, whose first byte is its kind.
const KIND = 11;

const DIGEST_INTERVAL_MS = 2000;
// Once the digest has gone out, the repair is two more records through Redis.
const REPAIR_MARGIN_MS = 1500;
const PREFIX = 'pogo_websocket';

const redis = useRedis();
const nodeA = useServer(async () => ({
  name: 'node A',
  options: [`redis ${(await redis.started).url}`, `digest_interval ${DIGEST_INTERVAL_MS}ms`],
  env: { POGO_WEBSOCKET_FAULT_DROP_RELAY: '4:1' },
}));
const nodeB = useServer(async () => ({
  name: 'node B',
  options: [`redis ${(await redis.started).url}`, `digest_interval ${DIGEST_INTERVAL_MS}ms`],
}));

// Node C loses its first sign-out (relay kind 10, user offline) the same way.
const nodeC = useServer(async () => ({
  name: 'node C',
  options: [`redis ${(await redis.started).url}`, `digest_interval ${DIGEST_INTERVAL_MS}ms`],
  env: { POGO_WEBSOCKET_FAULT_DROP_RELAY: '10:1' },
}));

const alice = { id: 1, name: 'Alice' };
const bob = { id: 2, name: 'Bob' };

async function echoOn(server, member) {
  const client = await connectPusher(server, { presence: { user_id: member.id, user_info: member } });
  return createEcho(client);
}

// Joins `room` and records here(), joining() and leaving(); `next(what)` waits for the next change.
async function join(echo, room) {
  const here = deferred();
  const seen = { joining: [], leaving: [], changed: deferred() };
  const changed = () => {
    const d = seen.changed;
    seen.changed = deferred();
    d.resolve();
  };
  echo
    .join(room)
    .here((users) => here.resolve(users))
    .joining((u) => {
      seen.joining.push(u);
      changed();
    })
    .leaving((u) => {
      seen.leaving.push(u);
      changed();
    });
  seen.here = await withTimeout(here.promise, 3000, `here() on ${room}`);
  seen.until = async (cond, what, timeout) => {
    const deadline = Date.now() + timeout;
    while (!cond()) await withTimeout(seen.changed.promise, Math.max(1, deadline - Date.now()), what);
  };
  return seen;
}

async function users(server, channel) {
  const res = await sdkResult(createPublisher(server).get({ path: `/channels/${channel}/users` }));
  assert.equal(res.status, 200, res.body);
  return res.json.users.map((u) => String(u.id)).sort();
}

// Polls the roster of `channel` on `server` until it is `ids`; resolves with the time it took.
async function rosterBecomes(server, channel, ids, timeout) {
  const started = Date.now();
  for (;;) {
    const got = await users(server, channel);
    if (JSON.stringify(got) === JSON.stringify(ids)) return Date.now() - started;
    if (Date.now() - started > timeout) throw new Error(`${server.name} lists ${JSON.stringify(got)}, not ${JSON.stringify(ids)}, after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test('a member_removed that Redis never carried is repaired on the other node within the digest interval, without a restart', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up', 10_000), brokerBecomes(nodeB, 'up', 10_000)]);
  const room = uniq('room.');
  const channel = `presence-${room}`;
  const relayed = await redis.monitor(`${PREFIX}:*`);
  try {
    const watcher = await echoOn(nodeB, alice);
    const seen = await join(watcher, room);
    const leaver = await echoOn(nodeA, bob);
    await join(leaver, room);
    await seen.until(() => seen.joining.length === 1, 'joining() of bob on node B', 3000);
    assert.deepEqual(seen.joining, [bob]);

    leaver.leave(room);
    const left = Date.now();
    await rosterBecomes(nodeA, channel, ['1'], 3000);

    // A later digest from node A shows node B the difference; node B asks and node A answers.
    await seen.until(() => seen.leaving.length === 1, 'leaving() of bob on node B, repaired', DIGEST_INTERVAL_MS + REPAIR_MARGIN_MS);
    const repairedIn = Date.now() - left;
    console.log(`lost member_removed repaired on node B ${repairedIn} ms after the departure (digest_interval ${DIGEST_INTERVAL_MS} ms)`);
    assert.deepEqual(seen.leaving, [bob]);
    assert.deepEqual(await users(nodeB, channel), ['1']);
    // The departure was lost: node A sent no member_removed (relay kind 4, after the 11-byte
    // header) to Redis, so node B learnt it from the repair alone.
    const removals = relayed.messages.filter((m) => m.data[0] === 1 && m.data[KIND] === 4);
    assert.deepEqual(removals, [], 'a member_removed reached Redis');
    // The repair travelled as a digest, a request and an answer: relay kinds 6, 7 and 8.
    const kinds = new Set(relayed.messages.filter((m) => m.data[0] === 1).map((m) => m.data[KIND]));
    for (const k of [6, 7, 8]) assert.ok(kinds.has(k), `no relay record of kind ${k} on Redis`);
  } finally {
    relayed.close();
  }
});

test('nodes that hold the same state exchange digests and nothing else: no request, no repair', async () => {
  const room = uniq('room.');
  const a = await echoOn(nodeA, alice);
  const onA = await join(a, room);
  const b = await echoOn(nodeB, bob);
  await join(b, room);
  await onA.until(() => onA.joining.length === 1, 'joining() of bob on node A', 3000);
  // Past the records of the joins, two digest intervals bring digests from both nodes.
  const relayed = await redis.monitor(`${PREFIX}:*`);
  try {
    const digests = (node) => relayed.messages.filter((m) => m.data[0] === 1 && m.data[KIND] === 6 && m.data.subarray(1, KIND).toString('hex') === node);
    const first = await relayed.next((m) => m.data[0] === 1 && m.data[KIND] === 6, { timeout: DIGEST_INTERVAL_MS + 1000, what: 'a digest' });
    const firstNode = first.data.subarray(1, KIND).toString('hex');
    // Another node: its 8-byte id differs (a node's shards share it).
    await relayed.next((m) => m.data[0] === 1 && m.data[KIND] === 6 && m.data.subarray(1, 9).toString('hex') !== firstNode.slice(0, 16), {
      timeout: DIGEST_INTERVAL_MS + 1000,
      what: 'a digest from the other node',
    });
    await relayed.next(() => digests(firstNode).length >= 2, { timeout: DIGEST_INTERVAL_MS + 1000, what: 'a second digest' });
    const repairs = relayed.messages.filter((m) => m.data[0] === 1 && (m.data[KIND] === 7 || m.data[KIND] === 8));
    assert.deepEqual(repairs.map((m) => m.data[KIND]), [], 'a node asked for a repair though nothing was lost');
    assert.deepEqual(onA.leaving, []);
  } finally {
    relayed.close();
  }
});

test("a sign-out that Redis never carried is repaired within the digest interval: the watchers on other nodes hear offline", async () => {
  await Promise.all([brokerBecomes(nodeB, 'up', 10_000), brokerBecomes(nodeC, 'up', 10_000)]);
  const friend = uniq('friend-');
  const watcher = await signedInPusher(nodeB, { id: uniq('watcher-'), watchlist: [friend] });
  const online = nextEvent(watcher.user.watchlist, 'online', { timeout: 3000 });
  const relayed = await redis.monitor(`${PREFIX}:*`);
  try {
    const tab = await signedInPusher(nodeC, { id: friend });
    assert.deepEqual((await online).data.user_ids.map(String), [friend]);

    const offline = nextEvent(watcher.user.watchlist, 'offline', { timeout: DIGEST_INTERVAL_MS + REPAIR_MARGIN_MS });
    const left = Date.now();
    tab.disconnect();
    assert.deepEqual((await offline).data.user_ids.map(String), [friend]);
    console.log(`lost sign-out repaired on node B ${Date.now() - left} ms after the last connection closed (digest_interval ${DIGEST_INTERVAL_MS} ms)`);
    // Node C sent no user offline record (relay kind 10) to Redis: node B learnt it from the repair.
    const offlines = relayed.messages.filter((m) => m.data[0] === 1 && m.data[KIND] === 10);
    assert.deepEqual(offlines, [], 'a user offline record reached Redis');
  } finally {
    relayed.close();
  }
});
