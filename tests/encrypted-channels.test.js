// Issue 3 item 7: private-encrypted- channels are authorised as private channels and their
// payloads relayed untouched (end-to-end encryption between the SDK and pusher-js).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  RawClient,
  connectPusher,
  subscribe,
  subscriptionError,
  nextEvent,
  createPublisher,
  publish,
  privateAuth,
  ENCRYPTION_MASTER_KEY,
  uniq,
} from './support/clients.js';
import { assertSubscribed } from './support/assert.js';

const server = useServer({ options: ['client_events on'] });

const encryptingPublisher = () =>
  createPublisher(server, { encryptionMasterKeyBase64: ENCRYPTION_MASTER_KEY.toString('base64') });

test('pusher-js decrypts an event the SDK encrypted for a private-encrypted- channel', async () => {
  const name = uniq('private-encrypted-secret-');
  const client = await connectPusher(server);
  const ch = await subscribe(client, name);
  const got = nextEvent(ch, 'classified');
  await encryptingPublisher().trigger(name, 'classified', { code: 'swordfish', n: [1, 2, 3] });
  assert.deepEqual((await got).data, { code: 'swordfish', n: [1, 2, 3] });
});

test('the encrypted payload is relayed byte for byte', async () => {
  const channel = uniq('private-encrypted-raw-');
  const ws = await RawClient.connect(server);
  assertSubscribed(await ws.subscribePrivate(channel, server.app), channel);
  const data = JSON.stringify({ nonce: 'bm9uY2Ugbm9uY2Ugbm9uY2Ugbm9uY2U=', ciphertext: 'Y2lwaGVydGV4dA+/==' });
  await publish(server, { channel, name: 'sealed', data });
  const frame = await ws.nextEvent('sealed');
  assert.deepEqual(frame, { event: 'sealed', channel, data });
});

test('the server never sees a shared_secret: a subscribe carrying only the private-style auth succeeds', async () => {
  const channel = uniq('private-encrypted-nosecret-');
  const ws = await RawClient.connect(server);
  const reply = await ws.subscribe(channel, privateAuth(server.app, ws.socketId, channel));
  assertSubscribed(reply, channel);
});

test('pusher-js gets subscription_error 401 on a private-encrypted- channel with a forged signature', async () => {
  const client = await connectPusher(server, {
    authorize: (channel, socketId) => ({
      ...privateAuth({ ...server.app, secret: 'forged' }, socketId, channel),
      shared_secret: ENCRYPTION_MASTER_KEY.toString('base64'),
    }),
  });
  const err = await subscriptionError(client.subscribe(uniq('private-encrypted-forged-')));
  assert.equal(err.type, 'AuthError');
  assert.equal(err.status, 401);
});
