// Subscription counts across nodes sharing one Redis: pusher_internal:subscription_count, the
// HTTP API's subscription_count, `occupied` and the channel list count every node's subscribers,
// and a node that stops has its subscribers leave those counts within a few seconds.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer, startServer, brokerBecomes } from './support/server.js';
import { useRedis } from './support/redis.js';
import { RawClient, createPublisher, sdkResult, parseMaybe, uniq } from './support/clients.js';
import { assertSubscribed } from './support/assert.js';

const redis = useRedis();
// node:test runs the before() hooks concurrently: each node waits for the redis-server.
const node = (name) => useServer(async () => ({ name, options: [`redis ${(await redis.started).url}`, 'subscription_count on'] }));
const nodeA = node('node A');
const nodeB = node('node B');

const isCount = (channel, n) => (f) =>
  f.event === 'pusher_internal:subscription_count' && f.channel === channel && parseMaybe(f.data).subscription_count === n;

async function subscriber(server, channel) {
  const ws = await RawClient.connect(server);
  assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
  return ws;
}

async function channelInfo(server, channel) {
  const res = await sdkResult(createPublisher(server).get({ path: `/channels/${channel}`, params: { info: 'subscription_count' } }));
  assert.equal(res.status, 200, res.body);
  return res.json;
}

async function channelNames(server) {
  const res = await sdkResult(createPublisher(server).get({ path: '/channels' }));
  assert.equal(res.status, 200, res.body);
  return Object.keys(res.json.channels);
}

test('pusher_internal:subscription_count on node A counts the subscribers of node B, both ways', async () => {
  await Promise.all([brokerBecomes(nodeA, 'up', 10_000), brokerBecomes(nodeB, 'up', 10_000)]);
  const channel = uniq('news-');
  const a = await subscriber(nodeA, channel);
  await a.next(isCount(channel, 1), { what: 'count 1 on node A' });
  const b = await subscriber(nodeB, channel);
  await a.next(isCount(channel, 2), { what: 'count 2 on node A after a subscriber joined node B' });
  await b.next(isCount(channel, 2), { what: 'count 2 on node B' });
  b.send({ event: 'pusher:unsubscribe', data: { channel } });
  await a.next(isCount(channel, 1), { what: 'count 1 on node A after node B unsubscribed' });
});

test('the HTTP API on node A reports a channel subscribed on node B only as occupied, counted and listed', async () => {
  const channel = uniq('elsewhere-');
  const b1 = await subscriber(nodeB, channel);
  await subscriber(nodeB, channel);
  const deadline = Date.now() + 3000;
  let info;
  while ((info = await channelInfo(nodeA, channel)).subscription_count !== 2 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(info, { occupied: true, subscription_count: 2 });
  assert.ok((await channelNames(nodeA)).includes(channel), 'listed by GET /channels on node A');

  await b1.close();
  while ((info = await channelInfo(nodeA, channel)).subscription_count !== 1 && Date.now() < deadline + 3000) {
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.deepEqual(info, { occupied: true, subscription_count: 1 });
});

test('the subscribers of a node that dies leave the counts of the others within a few seconds', async () => {
  const channel = uniq('news-');
  const doomed = await startServer({ name: 'node C', options: [`redis ${(await redis.started).url}`, 'subscription_count on'] });
  try {
    await brokerBecomes(doomed, 'up', 10_000);
    const a = await subscriber(nodeA, channel);
    await a.next(isCount(channel, 1), { what: 'count 1 on node A' });
    await subscriber(doomed, channel);
    await a.next(isCount(channel, 2), { what: 'count 2 on node A' });
    doomed.child.kill('SIGKILL');
    await a.next(isCount(channel, 1), { what: 'count 1 on node A after node C died', timeout: 10_000 });
    assert.deepEqual(await channelInfo(nodeA, channel), { occupied: true, subscription_count: 1 });
  } finally {
    await doomed.stop();
  }
});
