// Issue 3 items 2 (presence limits) and 9 (names and sizes): every refusal is a pusher:error or a
// pusher:subscription_error, and the connection stays usable where the refusal is not fatal.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import { RawClient, createPublisher, uniq } from './support/clients.js';
import { assertPusherError, assertSubscribed, assertSubscriptionError } from './support/assert.js';

const server = useServer();
const small = useServer({ options: ['max_message_size 1024'] });
const crowded = useServer({ options: ['max_presence_members 2'] });

// A refusal of a subscribe: either pusher:subscription_error on the channel or a pusher:error.
async function assertSubscribeRefused(ws, channel) {
  ws.send({ event: 'pusher:subscribe', data: { channel, auth: '' } });
  const frame = await ws.next(
    (f) =>
      f.event === 'pusher:error' ||
      (f.channel === channel && (f.event === 'pusher:subscription_error' || f.event === 'pusher_internal:subscription_succeeded')),
    { what: `the reply to subscribing ${JSON.stringify(channel)}` },
  );
  if (frame.event === 'pusher:subscription_error') assertSubscriptionError(frame, channel);
  else assertPusherError(frame);
  await ws.ping();
}

for (const [label, name] of [
  ['a space', 'bad channel'],
  ['a slash', 'bad/channel'],
  ['a colon', 'bad:channel'],
  ['a non-ASCII letter', 'café'],
  ['a # that is not a server-to-user channel', '#notallowed'],
  ['nothing (empty name)', ''],
]) {
  test(`subscribing to a channel name with ${label} is refused and the connection stays usable`, async () => {
    const ws = await RawClient.connect(server);
    await assertSubscribeRefused(ws, name);
  });
}

test('a channel name of 201 characters is refused; 200 characters are accepted', async () => {
  const ws = await RawClient.connect(server);
  const base = uniq('len-');
  await assertSubscribeRefused(ws, base + 'x'.repeat(201 - base.length));
  const ok = base + 'y'.repeat(200 - base.length);
  assertSubscribed(await ws.subscribe(ok, { auth: '' }), ok);
});

test('every allowed character -_=@,.; is accepted in a channel name', async () => {
  const ws = await RawClient.connect(server);
  const name = uniq('Az09-_=@,.;');
  assertSubscribed(await ws.subscribe(name, { auth: '' }), name);
});

for (const [label, data] of [
  ['missing', {}],
  ['not a string', { channel: 12 }],
  ['not an object', 'presence-x'],
]) {
  test(`a subscribe whose data.channel is ${label} is refused with pusher:error or subscription_error`, async () => {
    const ws = await RawClient.connect(server);
    ws.send({ event: 'pusher:subscribe', data });
    const frame = await ws.next((f) => f.event === 'pusher:error' || f.event === 'pusher:subscription_error', {
      what: 'a refusal',
    });
    if (frame.event === 'pusher:error') assertPusherError(frame);
    else assertSubscriptionError(frame, frame.channel);
    await ws.ping();
  });
}

test('a frame of 9 KB is accepted under the default 10 KB max_message_size', async () => {
  const ws = await RawClient.connect(server);
  ws.send({ event: 'pusher:ping', data: { pad: 'p'.repeat(9 * 1024) } });
  await ws.nextEvent('pusher:pong');
});

test('a frame over the default 10 KB max_message_size is refused with pusher:error', async () => {
  const ws = await RawClient.connect(server);
  ws.send({ event: 'pusher:ping', data: { pad: 'p'.repeat(11 * 1024) } });
  const frame = await ws.next((f) => f.event === 'pusher:error' || f.event === 'pusher:pong', { what: 'the reply to an 11 KB frame' });
  assertPusherError(frame);
});

test('max_message_size 1024 refuses a 2 KB frame with pusher:error and accepts a 900-byte one', async () => {
  const ok = await RawClient.connect(small);
  ok.send({ event: 'pusher:ping', data: { pad: 'p'.repeat(900) } });
  await ok.nextEvent('pusher:pong');
  const big = await RawClient.connect(small);
  big.send({ event: 'pusher:ping', data: { pad: 'p'.repeat(2048) } });
  const frame = await big.next((f) => f.event === 'pusher:error' || f.event === 'pusher:pong', { what: 'the reply to a 2 KB frame' });
  assertPusherError(frame);
});

test('max_presence_members refuses a member beyond the limit, but not another connection of an existing member', async () => {
  const channel = uniq('presence-full-');
  const m = (id) => ({ user_id: id, user_info: { id } });
  const a = await RawClient.connect(crowded);
  assertSubscribed(await a.subscribePresence(channel, m('1'), crowded.app), channel);
  const b = await RawClient.connect(crowded);
  assertSubscribed(await b.subscribePresence(channel, m('2'), crowded.app), channel);
  const c = await RawClient.connect(crowded);
  const reply = await c.subscribePresence(channel, m('3'), crowded.app);
  assertSubscriptionError(reply, channel);
  await c.ping();
  // user 1 opening a second tab is not a new member
  const a2 = await RawClient.connect(crowded);
  assertSubscribed(await a2.subscribePresence(channel, m('1'), crowded.app), channel);
  // no member_added for the refused user reached the members
  await createPublisher(crowded).trigger(channel, 'sentinel', 'x');
  await a.nextEvent('sentinel');
  assert.deepEqual(a.received('pusher_internal:member_added').map((f) => JSON.parse(f.data).user_id), ['2']);
});

test('a presence user_info far over the size limit is refused', async () => {
  // Pusher allows 1 KB per user object; 8 KB stays under the 10 KB frame limit.
  const channel = uniq('presence-fat-');
  const ws = await RawClient.connect(server);
  const reply = await ws.subscribePresence(channel, { user_id: 'fat', user_info: { bio: 'b'.repeat(8 * 1024) } }, server.app);
  assertSubscriptionError(reply, channel);
  await ws.ping();
});
