// Issue 5, codes 6 and 8: PHP publishes on a node that shares its events through a real Redis.
// A PHP publish reaches pusher-js clients on another node (a plain bin/caddy on the same Redis);
// while Redis is down the functions return 6 and deliver nothing, anywhere; while Redis is
// stalled and broker_queue events already wait for it, they return 8.

import { test, before, after, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { startFrankenPHP } from './support/frankenphp.js';
import { startServer, brokerBecomes } from '../support/server.js';
import { RedisServer } from '../support/redis.js';
import { connectPusher, subscribe, nextEvent, closeAllClients, uniq } from '../support/clients.js';

const OK = 0;
const BROKER_PUBLISH_FAILED = 6;
const BROKER_QUEUE_FULL = 8;

const redis = new RedisServer();
let php; // bin/frankenphp, broker_queue 4
let other; // bin/caddy, the other node

before(async () => {
  await redis.start();
  php = await startFrankenPHP({ options: [`redis ${redis.url}`, 'broker_queue 4'] });
  other = await startServer({ name: 'other node', options: [`redis ${redis.url}`] });
  await Promise.all([brokerBecomes(php, 'up', 10_000), brokerBecomes(other, 'up', 10_000)]);
});

afterEach(closeAllClients);

after(async () => {
  await php?.stop();
  await other?.stop();
  await redis.cleanup();
});

async function codes(calls) {
  const res = await php.php('publish.php', calls);
  assert.equal(res.status, 200, `publish.php answered ${res.status}: ${res.body}`);
  return res.json;
}

test('a PHP publish reaches pusher-js clients on the other node through Redis', async () => {
  const remote = await connectPusher(other);
  const local = await connectPusher(php);
  const name = uniq('orders-');
  const got = [nextEvent(await subscribe(remote, name), 'shipped'), nextEvent(await subscribe(local, name), 'shipped')];

  assert.deepEqual(await codes([['publish', php.app.id, name, 'shipped', '{"id":1}']]), [OK]);
  for (const { data } of await Promise.all(got)) assert.deepEqual(data, { id: 1 });
});

test('code 6 while Redis is down: nothing is delivered, and publishing works again once Redis is back', async () => {
  const remote = await connectPusher(other);
  const local = await connectPusher(php);
  const name = uniq('orders-');
  const remoteChannel = await subscribe(remote, name);
  const localChannel = await subscribe(local, name);
  const seen = [];
  remoteChannel.bind_global((event) => !event.startsWith('pusher') && seen.push(`remote ${event}`));
  localChannel.bind_global((event) => !event.startsWith('pusher') && seen.push(`local ${event}`));

  await redis.kill();
  await brokerBecomes(php, 'down', 10_000);
  assert.deepEqual(
    await codes([['publish', php.app.id, name, 'lost', '1'], ['multi', php.app.id, JSON.stringify([name]), 'lost', '1']]),
    [BROKER_PUBLISH_FAILED, BROKER_PUBLISH_FAILED],
  );
  assert.equal(local.connection.state, 'connected', 'a dead Redis closes no connection');

  await redis.start();
  await Promise.all([brokerBecomes(php, 'up', 10_000), brokerBecomes(other, 'up', 10_000)]);
  const marker = [nextEvent(remoteChannel, 'after'), nextEvent(localChannel, 'after')];
  assert.deepEqual(await codes([['publish', php.app.id, name, 'after', '2']]), [OK]);
  await Promise.all(marker);
  // The refused publishes would have arrived before the marker.
  assert.deepEqual(seen.sort(), ['local after', 'remote after']);
});

test('code 8 once broker_queue events wait for a stalled Redis; 0 again once it answers', async () => {
  const local = await connectPusher(php);
  const name = uniq('burst-');
  const channel = await subscribe(local, name);
  const first = nextEvent(channel, 'tick');

  // A stopped, not dead, Redis: the round trip in flight waits for its timeout (2 s) while
  // the next events fill the queue of 4. The functions never wait for the engine, so the
  // queue fills a moment after the publishes that fill it: publish until 8 comes back.
  redis.child.kill('SIGSTOP');
  const seen = [];
  try {
    const deadline = Date.now() + 1500;
    while (!seen.includes(BROKER_QUEUE_FULL) && Date.now() < deadline) {
      seen.push(...(await codes([['publish', php.app.id, name, 'tick', '{"n":1}', 20]])));
    }
  } finally {
    redis.child.kill('SIGCONT');
  }
  assert.equal(seen[0], OK, 'the first publish finds an empty queue');
  assert.ok(seen.includes(BROKER_QUEUE_FULL), `no publish was refused with 8: ${JSON.stringify(seen.slice(0, 30))}…`);
  assert.deepEqual(seen.filter((c) => c !== OK && c !== BROKER_QUEUE_FULL), [], 'only 0 and 8 while Redis is stalled');
  // Accepted publishes are delivered on this node at once.
  assert.deepEqual((await first).data, { n: 1 });

  // Once Redis answers, the queue drains (or the stalled round trip times out and the broker
  // reconnects): publishes are accepted again within a few seconds, refused with 8 until then.
  await brokerBecomes(php, 'up', 15_000);
  const after = nextEvent(channel, 'after', { timeout: 10_000 });
  const deadline = Date.now() + 8000;
  let code;
  while ((code = (await codes([['publish', php.app.id, name, 'after', '1']]))[0]) === BROKER_QUEUE_FULL && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(code, OK, 'publishes are accepted again once Redis answers');
  await after;
});
