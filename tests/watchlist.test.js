// Issue 3 item 5: watchlist online/offline events for signed-in users, in the shape pusher-js routes.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import { RawClient, connectPusher, nextEvent, nextMessage, createPublisher, parseMaybe, userAuth, uniq } from './support/clients.js';
import { assertPusherError, assertSubscribed } from './support/assert.js';

const server = useServer();

function watchlistEvents(frame) {
  assert.equal(frame.event, 'pusher_internal:watchlist_events');
  const data = parseMaybe(frame.data);
  assert.ok(Array.isArray(data?.events), `watchlist_events data.events must be an array: ${JSON.stringify(frame)}`);
  return data.events.map((e) => ({ name: e.name, user_ids: e.user_ids.map(String).sort() }));
}

// A raw connection signed in as `userData`, subscribed to its own #server-to-user channel so
// that sendToUser can be used as a sentinel.
async function signedIn(userData) {
  const ws = await RawClient.connect(server);
  const reply = await ws.signin(userData, server.app);
  assert.equal(reply.event, 'pusher:signin_success', JSON.stringify(reply));
  const channel = `#server-to-user-${userData.id}`;
  assertSubscribed(await ws.subscribe(channel, { auth: '' }), channel);
  ws.userId = userData.id;
  return ws;
}

async function flush(ws) {
  await createPublisher(server).sendToUser(ws.userId, 'sentinel', uniq());
  await ws.nextEvent('sentinel');
}

const isOnline = (id) => (f) =>
  f.event === 'pusher_internal:watchlist_events' &&
  (parseMaybe(f.data)?.events || []).some((e) => e.name === 'online' && e.user_ids.map(String).includes(id));
const isOffline = (id) => (f) =>
  f.event === 'pusher_internal:watchlist_events' &&
  (parseMaybe(f.data)?.events || []).some((e) => e.name === 'offline' && e.user_ids.map(String).includes(id));

test('a watched user signing in produces pusher_internal:watchlist_events {events:[{name:"online",user_ids:[id]}]}', async () => {
  const friend = uniq('friend-');
  const watcher = await signedIn({ id: uniq('watcher-'), watchlist: [friend] });
  await signedIn({ id: friend });
  const frame = await watcher.next(isOnline(friend), { fromStart: true, what: `online ${friend}` });
  assert.deepEqual(watchlistEvents(frame), [{ name: 'online', user_ids: [friend] }]);
});

test('watched users already online are reported online right after the watcher signs in', async () => {
  const friend = uniq('friend-');
  await signedIn({ id: friend });
  const watcher = await signedIn({ id: uniq('watcher-'), watchlist: [friend, uniq('absent-')] });
  const frame = await watcher.next(isOnline(friend), { fromStart: true, what: `online ${friend}` });
  const events = watchlistEvents(frame);
  assert.deepEqual(events.find((e) => e.name === 'online').user_ids, [friend], 'only online users are reported online');
});

test("a watched user goes offline only when the user's last connection closes", async () => {
  const friend = uniq('friend-');
  const watcher = await signedIn({ id: uniq('watcher-'), watchlist: [friend] });
  const tab1 = await signedIn({ id: friend });
  await watcher.next(isOnline(friend), { fromStart: true, what: `online ${friend}` });
  const tab2 = await signedIn({ id: friend });
  await tab1.close();
  await flush(watcher);
  assert.equal(watcher.frames.filter(isOnline(friend)).length, 1, 'a second connection must not report online again');
  assert.equal(watcher.frames.filter(isOffline(friend)).length, 0, 'still online on another connection');
  await tab2.close();
  const frame = await watcher.next(isOffline(friend), { fromStart: true, what: `offline ${friend}` });
  assert.deepEqual(watchlistEvents(frame), [{ name: 'offline', user_ids: [friend] }]);
});

test('users not on the watchlist produce no watchlist events', async () => {
  const watcher = await signedIn({ id: uniq('watcher-'), watchlist: [uniq('friend-')] });
  const stranger = await signedIn({ id: uniq('stranger-') });
  await stranger.close();
  await flush(watcher);
  assert.deepEqual(watcher.received('pusher_internal:watchlist_events'), []);
});

test('pusher-js emits watchlist online/offline on pusher.user.watchlist', async () => {
  const friend = uniq('friend-');
  const client = await connectPusher(server, { user: { id: uniq('watcher-'), watchlist: [friend] } });
  client.signin();
  await nextMessage(client, (m) => m.event === 'pusher:signin_success', { what: 'signin_success' });
  const online = nextEvent(client.user.watchlist, 'online');
  const friendConn = await signedIn({ id: friend });
  assert.deepEqual((await online).data.user_ids.map(String), [friend]);
  const offline = nextEvent(client.user.watchlist, 'offline');
  await friendConn.close();
  assert.deepEqual((await offline).data.user_ids.map(String), [friend]);
});

test('a watchlist of more than 100 ids gets pusher:error 4302 and only the first 100 are watched', async () => {
  const base = uniq('w');
  const ids = Array.from({ length: 101 }, (_, i) => `${base}-${i}`);
  const watcher = await RawClient.connect(server);
  watcher.send({ event: 'pusher:signin', data: userAuth(server.app, watcher.socketId, { id: uniq('watcher-'), watchlist: ids }) });
  // the sign-in itself succeeds; the excess is reported with 4302 (before or after signin_success)
  await watcher.next((f) => f.event === 'pusher:signin_success', { fromStart: true, what: 'signin_success' });
  assertPusherError(await watcher.next((f) => f.event === 'pusher:error', { fromStart: true, what: 'pusher:error 4302' }), 4302);
  await signedIn({ id: ids[100] }); // the 101st: not watched
  await signedIn({ id: ids[99] }); // the 100th: watched
  await watcher.next(isOnline(ids[99]), { fromStart: true, what: `online ${ids[99]}` });
  assert.equal(watcher.frames.filter(isOnline(ids[100])).length, 0, 'the 101st id must not be watched');
});
