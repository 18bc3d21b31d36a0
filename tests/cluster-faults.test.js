// Faults under load across nodes sharing one Redis, measured: Redis killed and started again in
// the middle of a fan-out, and a node killed with SIGKILL. Each test prints the figure it
// measured (bench/README.md, "Faults", records a run) and asserts a bound with margin.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, startServer, brokerBecomes } from './support/server.js';
import { useRedis } from './support/redis.js';
import { RawClient, connectPusher, createEcho, deferred, parseMaybe, uniq, withTimeout } from './support/clients.js';

// A client event every TICK_MS from one sender: 50 a second, under client_event_rate.
const TICK_MS = 20;
// README.md: cross-node delivery resumes within 1 s of Redis answering again, and the members of
// a node that dies leave the others within three seconds. The margins absorb a shared machine.
const RESUME_BOUND_MS = 1000;
const RESUME_MARGIN_MS = 500;
const DEPARTURE_BOUND_MS = 3000;
const DEPARTURE_MARGIN_MS = 500;

const redis = useRedis();
const node = (name) =>
  useServer(async () => ({ name, options: [`redis ${(await redis.started).url}`, 'client_event_rate 100'] }));
const nodeA = node('node A');
const nodeB = node('node B');

const alice = { id: 1, name: 'Alice' };
const carol = { id: 3, name: 'Carol' };

async function listener(server, channel) {
  const ws = await RawClient.connect(server);
  const reply = await ws.subscribePrivate(channel, server.app);
  assert.equal(reply.event, 'pusher_internal:subscription_succeeded', JSON.stringify(reply));
  return ws;
}

const seqOf = (f) => parseMaybe(f.data)?.seq;
const ticks = (ws, channel) => ws.received('client-tick', channel).map(seqOf);

test('Redis killed and started again during a fan-out: local delivery never stops, cross-node delivery resumes within 1 s of Redis answering', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up', 10_000), brokerBecomes(nodeB, 'up', 10_000)]);
  const channel = uniq('private-fanout-');
  const sender = await listener(nodeA, channel);
  const local = await listener(nodeA, channel);
  const remote = await listener(nodeB, channel);
  let seq = 0;
  const timer = setInterval(() => sender.send({ event: 'client-tick', channel, data: { seq: ++seq } }), TICK_MS);
  let resumedIn;
  try {
    await remote.next((f) => f.event === 'client-tick', { timeout: 3000, what: 'a tick across nodes before the outage' });
    await redis.kill();
    await Promise.all([brokerBecomes(nodeA, 'down', 5000), brokerBecomes(nodeB, 'down', 5000)]);
    const down = seq;
    await local.next((f) => f.event === 'client-tick' && seqOf(f) >= down + 25, { timeout: 3000, what: 'local ticks while Redis is down' });

    await redis.start(); // resolves once Redis answers PING
    const answering = Date.now();
    const after = seq;
    await remote.next((f) => f.event === 'client-tick' && seqOf(f) > after, {
      timeout: 10_000,
      fromStart: true,
      what: 'a tick across nodes once Redis answers again',
    });
    resumedIn = Date.now() - answering;
    const last = seq;
    await local.next((f) => f.event === 'client-tick' && seqOf(f) >= last, { timeout: 3000, fromStart: true, what: 'the last tick here' });
  } finally {
    clearInterval(timer);
    if (redis.exited) await redis.start();
  }
  console.log(`cross-node delivery resumed ${resumedIn} ms after Redis answered again`);
  assert.deepEqual(sender.received('pusher:error'), [], 'the sender was refused a client event');
  // Local delivery: every tick, in order, before, during and after the outage.
  const got = ticks(local, channel);
  assert.deepEqual(got, Array.from({ length: got.length }, (_, i) => i + 1), 'a local tick is missing or out of order');
  for (const ws of [sender, local, remote]) assert.equal(ws.closed, null, 'a connection closed');
  assert.ok(resumedIn <= RESUME_BOUND_MS + RESUME_MARGIN_MS, `cross-node delivery resumed after ${resumedIn} ms`);
});

test('the members of a node killed with SIGKILL leave the other nodes within three seconds', async () => {
  const room = uniq('room.');
  const doomed = await startServer({ name: 'node C', options: [`redis ${(await redis.started).url}`] });
  let leftIn;
  try {
    await Promise.all([brokerBecomes(doomed, 'up', 10_000), brokerBecomes(nodeA, 'up', 10_000)]);
    const watcher = createEcho(await connectPusher(nodeA, { presence: { user_id: alice.id, user_info: alice } }));
    const joined = deferred();
    const left = deferred();
    const here = deferred();
    watcher.join(room).here(here.resolve).joining(joined.resolve).leaving(left.resolve);
    await withTimeout(here.promise, 3000, 'here()');
    const ws = await RawClient.connect(doomed);
    await ws.subscribePresence(`presence-${room}`, { user_id: carol.id, user_info: carol }, doomed.app);
    assert.deepEqual(await withTimeout(joined.promise, 3000, 'joining() of carol from node C'), carol);

    const killed = Date.now();
    doomed.child.kill('SIGKILL');
    assert.deepEqual(await withTimeout(left.promise, 10_000, 'leaving() of carol after node C died'), carol);
    leftIn = Date.now() - killed;
  } finally {
    await doomed.stop();
  }
  console.log(`the members of a SIGKILLed node left the others ${leftIn} ms after the kill`);
  assert.ok(leftIn <= DEPARTURE_BOUND_MS + DEPARTURE_MARGIN_MS, `members left ${leftIn} ms after the kill`);
});
