// The hostile-input catalog (issue 12 item 4): bytes a client or an HTTP caller may send on
// purpose, each with the precise answer RFC 6455, the Pusher protocol or the HTTP API names,
// against the real bin/caddy. After every case, a fresh client still subscribes and receives an
// event published over HTTP (`healthy()`): no case may wedge or crash the server.
//
// Raw TCP (support/rawtcp.js) sends what `ws` and fetch cannot: unmasked and reserved frames,
// lying lengths, bodies with both Content-Length and Transfer-Encoding, paths with `..`.

import { test, afterEach } from 'node:test';
import assert from 'node:assert/strict';
import { useServer } from './support/server.js';
import {
  RawClient, uniq, publish, signedRequest, httpRequest, privateAuth, presenceAuth, md5Hex, signParams,
} from './support/clients.js';
import { assertPusherError, assertSubscriptionError, assertSubscribed, assertHttpError, assertHttpOk } from './support/assert.js';
import { RawSocket, OP, frame, closeFrame, upgradeRequest, destroyAllSockets } from './support/rawtcp.js';

// The catalog opens connections faster than the default per-IP handshake_rate (100/s,
// burst 50) admits; the limiter has its own tests.
const server = useServer({ options: ['client_events on', 'handshake_rate 10000', 'handshake_burst 10000'] });

afterEach(destroyAllSockets);

// A fresh client subscribes and receives an event published over HTTP.
async function healthy() {
  const c = await RawClient.connect(server);
  const channel = uniq('health-');
  assertSubscribed(await c.subscribe(channel), channel);
  await publish(server, { channel, name: 'health', data: { ok: true } });
  await c.nextEvent('health', { channel });
  c.close();
}

// One catalog case: the behaviour, then the health check.
function hostile(name, fn) {
  test(name, async () => {
    await fn();
    await healthy();
  });
}

// A raw socket past the handshake (pusher:connection_established read).
async function upgraded(opts) {
  const sock = await RawSocket.upgrade(server, opts);
  const hello = await sock.nextEvent();
  assert.equal(hello.event, 'pusher:connection_established', JSON.stringify(hello));
  return sock;
}

// The server closes with `code` (after any frames, returned) and then the TCP connection.
async function closesWith(sock, code) {
  const closed = await sock.closeFrame();
  assert.equal(closed.code, code, `close code ${closed.code} (${closed.reason}), want ${code}`);
  return closed;
}

const PING = '{"event":"pusher:ping","data":{}}';

// A pusher:pong comes back: the connection still reads messages in order.
async function answersPing(sock) {
  sock.write(frame(OP.TEXT, PING));
  for (;;) {
    const e = await sock.nextEvent();
    if (e.event === 'pusher:pong') return;
  }
}

// ---------------------------------------------------------------------------------------------
// RFC 6455 framing

hostile('framing: an unmasked client frame closes the connection with 1002 (RFC 6455 5.1)', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, PING, { mask: false }));
  await closesWith(sock, 1002);
});

for (const rsv of [4, 2, 1]) {
  hostile(`framing: reserved bit RSV${[0, 3, 2, 0, 1][rsv]} set, no extension negotiated → 1002 (RFC 6455 5.2)`, async () => {
    const sock = await upgraded();
    sock.write(frame(OP.TEXT, PING, { rsv }));
    await closesWith(sock, 1002);
  });
}

hostile('framing: a reserved data opcode (0x3) → 1002', async () => {
  const sock = await upgraded();
  sock.write(frame(0x3, PING));
  await closesWith(sock, 1002);
});

hostile('framing: a reserved control opcode (0xB) → 1002', async () => {
  const sock = await upgraded();
  sock.write(frame(0xb, 'x'));
  await closesWith(sock, 1002);
});

hostile('framing: a binary message → 1003 (Pusher frames are text only)', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.BINARY, Buffer.from([1, 2, 3])));
  await closesWith(sock, 1003);
});

hostile('framing: a continuation frame with no message started → 1002', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.CONT, PING));
  await closesWith(sock, 1002);
});

hostile('framing: a new text frame inside a fragmented message → 1002', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, '{"event":', { fin: false }));
  sock.write(frame(OP.TEXT, PING));
  await closesWith(sock, 1002);
});

hostile('framing: a message in three fragments is reassembled and answered', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, '{"event":"pus', { fin: false }));
  sock.write(frame(OP.CONT, 'her:ping","da', { fin: false }));
  sock.write(frame(OP.CONT, 'ta":{}}'));
  const e = await sock.nextEvent();
  assert.equal(e.event, 'pusher:pong');
});

hostile('framing: a ping between the fragments of a message is answered first, then the message', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, '{"event":"pusher:', { fin: false }));
  sock.write(frame(OP.PING, 'mid'));
  sock.write(frame(OP.CONT, 'ping","data":{}}'));
  const pong = await sock.nextFrame();
  assert.deepEqual([pong.opcode, pong.text], [OP.PONG, 'mid']);
  assert.equal((await sock.nextEvent()).event, 'pusher:pong');
});

hostile('framing: a ping of 126 bytes (control frames carry at most 125) → 1002', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.PING, 'x'.repeat(126)));
  await closesWith(sock, 1002);
});

hostile('framing: a fragmented ping (FIN clear on a control frame) → 1002', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.PING, 'x', { fin: false }));
  await closesWith(sock, 1002);
});

hostile('framing: a close frame of 126 bytes → 1002', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.CLOSE, Buffer.concat([Buffer.from([0x03, 0xe8]), Buffer.alloc(124, 0x61)])));
  await closesWith(sock, 1002);
});

hostile('framing: invalid UTF-8 in a text message → 1007 (RFC 6455 8.1)', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])));
  await closesWith(sock, 1007);
});

hostile('framing: a UTF-16 surrogate encoded in UTF-8 (ED A0 80) → 1007', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, Buffer.concat([Buffer.from('{"event":"'), Buffer.from([0xed, 0xa0, 0x80]), Buffer.from('"}')])));
  await closesWith(sock, 1007);
});

hostile('framing: a character split across two fragments is valid UTF-8 and accepted', async () => {
  const sock = await upgraded();
  const euro = Buffer.from('€'); // E2 82 AC
  sock.write(frame(OP.TEXT, Buffer.concat([Buffer.from('{"event":"pusher:ping","data":{"x":"'), euro.subarray(0, 1)]), { fin: false }));
  sock.write(frame(OP.CONT, Buffer.concat([euro.subarray(1), Buffer.from('"}}')])));
  assert.equal((await sock.nextEvent()).event, 'pusher:pong');
});

hostile('framing: invalid UTF-8 in a close reason → 1007', async () => {
  const sock = await upgraded();
  sock.write(closeFrame(1000, Buffer.from([0xc3, 0x28])));
  await closesWith(sock, 1007);
});

for (const code of [0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000]) {
  hostile(`framing: close code ${code} is not a valid code to send → 1002 (RFC 6455 7.4)`, async () => {
    const sock = await upgraded();
    sock.write(closeFrame(code));
    await closesWith(sock, 1002);
  });
}

hostile('framing: a close frame with a one-byte payload → 1002', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.CLOSE, Buffer.from([0x03])));
  await closesWith(sock, 1002);
});

for (const code of [1000, 3000, 4999]) {
  hostile(`framing: a client close with ${code} is echoed with ${code}`, async () => {
    const sock = await upgraded();
    sock.write(closeFrame(code, 'bye'));
    await closesWith(sock, code);
  });
}

hostile('framing: an empty client close is answered with an empty close frame', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.CLOSE));
  const closed = await sock.closeFrame();
  assert.equal(closed.code, null, `close payload: ${JSON.stringify(closed)}`);
});

hostile('framing: a header claiming 2^62 bytes → 1009 at once, nothing read through (RFC 6455 7.4.1)', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, 'tiny', { length: 2n ** 62n }));
  await closesWith(sock, 1009);
});

hostile('framing: a header claiming 2^63 - 1 bytes → 1009', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, '', { length: 2n ** 63n - 1n }));
  await closesWith(sock, 1009);
});

hostile('framing: a 64-bit length with its most significant bit set → 1002 (RFC 6455 5.2)', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, PING, { length: 2n ** 63n + BigInt(PING.length) }));
  await closesWith(sock, 1002);
});

hostile('framing: fragments adding up past 1 MiB → 1009, though each is small', async () => {
  const sock = await upgraded();
  const chunk = 'x'.repeat(60_000);
  sock.write(frame(OP.TEXT, chunk, { fin: false }));
  for (let i = 0; i < 20; i++) sock.write(frame(OP.CONT, chunk, { fin: false }));
  const closed = await closesWith(sock, 1009);
  const errors = closed.frames.filter((f) => f.opcode === OP.TEXT).map((f) => JSON.parse(f.text));
  assert.ok(errors.some((e) => e.event === 'pusher:error' && JSON.parse(JSON.stringify(e.data)).code === 4300),
    `the message over max_message_size is reported with 4300 first: ${JSON.stringify(errors)}`);
});

hostile('framing: a 20 KB message (over max_message_size, under the cut-off) → pusher:error 4300, the connection goes on', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, `{"event":"pusher:ping","data":"${'x'.repeat(20_000)}"}`));
  assertPusherError(await sock.nextEvent(), 4300);
  await answersPing(sock);
});

hostile('framing: a frame sent one byte per TCP segment is read whole', async () => {
  const sock = await upgraded();
  sock.socket.setNoDelay(true);
  const bytes = frame(OP.TEXT, PING);
  for (const b of bytes) {
    sock.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  assert.equal((await sock.nextEvent()).event, 'pusher:pong');
});

hostile('framing: the upgrade request and a frame, one byte per TCP segment', async () => {
  const sock = await RawSocket.connect(server);
  sock.socket.setNoDelay(true);
  const bytes = Buffer.concat([Buffer.from(upgradeRequest(server)), frame(OP.TEXT, PING)]);
  for (const b of bytes) {
    sock.write(Buffer.from([b]));
    await new Promise((r) => setImmediate(r));
  }
  assert.equal((await sock.response()).status, 101);
  assert.equal((await sock.nextEvent()).event, 'pusher:connection_established');
  assert.equal((await sock.nextEvent()).event, 'pusher:pong');
});

hostile('framing: a flood of 5,000 pings of 125 bytes in one write gets 5,000 pongs, in order', async () => {
  const sock = await upgraded();
  const n = 5000; // 635 KB of pongs: within max_queue (1 MiB) even if the client read none yet
  const pings = [];
  for (let i = 0; i < n; i++) pings.push(frame(OP.PING, String(i).padEnd(125, '.')));
  sock.write(Buffer.concat(pings));
  for (let i = 0; i < n; i++) {
    const f = await sock.nextFrame(10_000);
    assert.equal(f.opcode, OP.PONG);
    assert.equal(f.text, String(i).padEnd(125, '.'));
  }
  await answersPing(sock);
});

hostile('framing: a flood of 100,000 pings from a client that does not read → its pongs overflow max_queue: pusher:error 4100, close 4100', async () => {
  const sock = await upgraded();
  const pings = [];
  for (let i = 0; i < 100_000; i++) pings.push(frame(OP.PING, 'p'.repeat(125)));
  sock.socket.pause();
  // The write completes once the server has read nearly all of it: by then 12.7 MB of pongs
  // are past the kernel's buffers and the 1 MiB queue.
  await new Promise((res) => sock.socket.write(Buffer.concat(pings), res));
  sock.socket.resume();
  const closed = await sock.closeFrame(20_000);
  assert.equal(closed.code, 4100, `close ${closed.code} ${closed.reason}`);
  const last = closed.frames.at(-1);
  assert.equal(last.opcode, OP.TEXT);
  assertPusherError(JSON.parse(last.text), 4100);
  assert.ok(closed.frames.slice(0, -1).every((f) => f.opcode === OP.PONG), 'only pongs before the error');
});

hostile('framing: an empty text message → pusher:error 4200, the connection goes on', async () => {
  const sock = await upgraded();
  sock.write(frame(OP.TEXT, ''));
  assertPusherError(await sock.nextEvent(), 4200);
  await answersPing(sock);
});

// ---------------------------------------------------------------------------------------------
// The upgrade request

async function upgradeAnswer(opts) {
  const sock = await RawSocket.connect(server);
  sock.write(upgradeRequest(server, opts));
  return { sock, res: await sock.response() };
}

hostile('upgrade: no Sec-WebSocket-Key → 400 (RFC 6455 4.2.1)', async () => {
  const { res } = await upgradeAnswer({ headers: { 'Sec-WebSocket-Key': null } });
  assert.equal(res.status, 400, res.head);
});

hostile('upgrade: a Sec-WebSocket-Key that is not 16 bytes in base64 → 400', async () => {
  const { res } = await upgradeAnswer({ headers: { 'Sec-WebSocket-Key': 'c2hvcnQ=' } });
  assert.equal(res.status, 400, res.head);
});

hostile('upgrade: Sec-WebSocket-Version 8 → 426 with Sec-WebSocket-Version: 13 (RFC 6455 4.2.2)', async () => {
  const { res } = await upgradeAnswer({ headers: { 'Sec-WebSocket-Version': '8' } });
  assert.equal(res.status, 426, res.head);
  assert.equal(res.headers['sec-websocket-version'], '13', res.head);
});

hostile('upgrade: POST with the upgrade headers → 405 with Allow: GET (RFC 6455 4.1)', async () => {
  const { res } = await upgradeAnswer({ method: 'POST' });
  assert.equal(res.status, 405, res.head);
  assert.equal(res.headers.allow, 'GET', res.head);
});

hostile('upgrade: 64 KB of headers → 431 Request Header Fields Too Large (Caddy reads 16 KB of headers by default)', async () => {
  const { res } = await upgradeAnswer({ headers: { 'X-Pad': 'p'.repeat(64 * 1024) } });
  assert.equal(res.status, 431, res.head);
});

hostile('upgrade: 1,000 headers (12 KB) upgrade and work', async () => {
  const headers = {};
  for (let i = 0; i < 1000; i++) headers[`X-H${i}`] = String(i);
  const sock = await RawSocket.upgrade(server, { headers });
  assert.equal((await sock.nextEvent()).event, 'pusher:connection_established');
  await answersPing(sock);
});

hostile('upgrade: 2 MB of headers → 431 Request Header Fields Too Large', async () => {
  const { res } = await upgradeAnswer({ headers: { 'X-Pad': 'p'.repeat(2 * 1024 * 1024) } });
  assert.equal(res.status, 431, res.head);
});

hostile('upgrade: no app key (/app/) → pusher:error 4001, close 4001', async () => {
  const sock = await RawSocket.upgrade(server, { path: '/app/?protocol=7' });
  assertPusherError(await sock.nextEvent(), 4001);
  await closesWith(sock, 4001);
});

hostile('upgrade: a 2 KB app key → pusher:error 4001, close 4001', async () => {
  const sock = await RawSocket.upgrade(server, { key: 'k'.repeat(2048) });
  assertPusherError(await sock.nextEvent(), 4001);
  await closesWith(sock, 4001);
});

for (const [query, code] of [['?protocol=6', 4007], ['?protocol=99', 4007], ['?client=js&version=8.6.0', 4008]]) {
  hostile(`upgrade: ${query} → pusher:error ${code}, close ${code} (Pusher protocol)`, async () => {
    const sock = await RawSocket.upgrade(server, { query });
    const err = assertPusherError(await sock.nextEvent(), code);
    assert.match(err.message, code === 4007 ? /Unsupported protocol version/ : /No protocol version supplied/);
    await closesWith(sock, code);
  });
}

// ---------------------------------------------------------------------------------------------
// Pusher messages

for (const [label, text] of [['an array', '[]'], ['a string', '"pusher:ping"'], ['a number', '42'], ['null', 'null'], ['truncated JSON', '{"event":"pusher:ping"']]) {
  hostile(`messages: ${label} instead of an object → pusher:error 4200, the connection goes on`, async () => {
    const c = await RawClient.connect(server);
    c.send(text);
    assertPusherError(await c.nextEvent('pusher:error'), 4200);
    await c.ping();
  });
}

hostile('messages: an unknown pusher: event → pusher:error 4200 "unsupported event"', async () => {
  const c = await RawClient.connect(server);
  c.send({ event: 'pusher:launch', data: {} });
  const err = assertPusherError(await c.nextEvent('pusher:error'), 4200);
  assert.match(err.message, /unsupported event/);
  await c.ping();
});

hostile('messages: a 9 KB array of 4,000 numbers in data is accepted', async () => {
  const c = await RawClient.connect(server);
  c.send(`{"event":"pusher:ping","data":[${new Array(4000).fill(0).join(',')}]}`);
  await c.nextEvent('pusher:pong');
});

hostile('messages: an array of 4,000 numbers as the channel → subscription_error InvalidMessage', async () => {
  const c = await RawClient.connect(server);
  c.send(`{"event":"pusher:subscribe","data":{"channel":[${new Array(4000).fill(0).join(',')}]}}`);
  const f = await c.nextEvent('pusher:subscription_error');
  assert.equal(parseData(f).type, 'InvalidMessage');
  await c.ping();
});

hostile('messages: nesting 20 levels deep in data is accepted', async () => {
  const c = await RawClient.connect(server);
  c.send(`{"event":"pusher:ping","data":${'['.repeat(20)}${']'.repeat(20)}}`);
  await c.nextEvent('pusher:pong');
});

// Expected to pass once the engine's JSON scanner names the depth limit (branch robust).
hostile('messages: nesting 1,000 levels deep → pusher:error 4200 that names the nesting, not "expected a JSON object"', async () => {
  const c = await RawClient.connect(server);
  c.send(`{"event":"pusher:ping","data":${'['.repeat(1000)}${']'.repeat(1000)}}`);
  const err = assertPusherError(await c.nextEvent('pusher:error'), 4200);
  assert.doesNotMatch(err.message, /expected a JSON object/);
  assert.match(err.message, /nest|deep/i);
  await c.ping();
});

// Expected to pass once JSON escapes are decoded before comparison (branch robust, RFC 8259 §7).
hostile('messages: an escaped event name ("pusher\\u003aping") is pusher:ping', async () => {
  const c = await RawClient.connect(server);
  c.send('{"event":"pusher\\u003aping","data":{}}');
  await c.nextEvent('pusher:pong');
});

// Expected to pass with branch robust.
hostile('messages: an escaped member name ("\\u0065vent") is the event member', async () => {
  const c = await RawClient.connect(server);
  c.send('{"\\u0065vent":"pusher:ping","data":{}}');
  await c.nextEvent('pusher:pong');
});

// Expected to pass with branch robust.
hostile('messages: an escaped channel name (esc\\u002d…) subscribes to esc-…', async () => {
  const c = await RawClient.connect(server);
  const tail = uniq('');
  c.send(`{"event":"pusher:subscribe","data":{"channel":"esc\\u002d${tail}"}}`);
  const f = await c.next((m) => m.event === 'pusher_internal:subscription_succeeded' || m.event === 'pusher:subscription_error');
  assertSubscribed(f, `esc-${tail}`);
});

// The channel of a subscription_error is the name the client sent, escaped once: pusher-js and
// Echo route the error by it. Expected to pass with branch robust.
for (const [label, name] of [['NUL', 'a\u0000b'], ['a quote and a backslash', 'a"b\\c']]) {
  hostile(`channel names: ${label} → subscription_error InvalidChannel carrying that exact name`, async () => {
    const c = await RawClient.connect(server);
    c.send({ event: 'pusher:subscribe', data: { channel: name } });
    const f = await c.nextEvent('pusher:subscription_error');
    assertSubscriptionError(f, name, { type: 'InvalidChannel', status: 400 });
  });
}

hostile('messages: a raw (unescaped) NUL byte inside a JSON string → pusher:error 4200 (RFC 8259 §7)', async () => {
  const c = await RawClient.connect(server);
  c.send('{"event":"pusher:subscribe","data":{"channel":"a\u0000b"}}');
  assertPusherError(await c.nextEvent('pusher:error'), 4200);
  await c.ping();
});

const invalidNames = [
  ['empty', ''],
  ['201 characters', 'c'.repeat(201)],
  ['a space', 'a b'],
  ['a zero-width space (U+200B)', 'a\u200bb'],
  ['a slash', 'a/b'],
  ['a colon', 'a:b'],
  ['a lone #', '#'],
  ['# not followed by server-to-user-', '#other'],
  ['#server-to-user- with no user', '#server-to-user-'],
  ['non-ASCII letters', 'canal-é'],
];
for (const [label, name] of invalidNames) {
  hostile(`channel names: ${label} → subscription_error InvalidChannel 400`, async () => {
    const c = await RawClient.connect(server);
    const f = await c.subscribe(name);
    assertSubscriptionError(f, name, { type: 'InvalidChannel', status: 400 });
    await c.ping();
  });
}

hostile('channel names: 200 characters of every allowed class ([-a-zA-Z0-9_=@,.;]) subscribe', async () => {
  const c = await RawClient.connect(server);
  const base = `${uniq('')}-_=@,.;AZaz09`;
  const name = base.padEnd(200, 'x');
  assertSubscribed(await c.subscribe(name), name);
});

hostile('channel names: a channel that is not a string → subscription_error InvalidMessage', async () => {
  const c = await RawClient.connect(server);
  c.send({ event: 'pusher:subscribe', data: { channel: 42 } });
  const f = await c.nextEvent('pusher:subscription_error');
  assert.equal(parseData(f).type, 'InvalidMessage');
});

hostile('channel names: #server-to-user-x without signing in → subscription_error AuthError 403', async () => {
  const c = await RawClient.connect(server);
  assertSubscriptionError(await c.subscribe('#server-to-user-x'), '#server-to-user-x', { type: 'AuthError', status: 403 });
});

hostile('auth: a private channel without auth → AuthError 401', async () => {
  const c = await RawClient.connect(server);
  const name = uniq('private-');
  assertSubscriptionError(await c.subscribe(name), name, { type: 'AuthError', status: 401 });
});

for (const [label, auth] of [['"key:" (no signature)', (app) => `${app.key}:`], ['":sig" (no key)', (app, sig) => `:${sig}`], ['another key with the right signature', (app, sig) => `other-key:${sig}`], ['a signature in upper case', (app, sig) => `${app.key}:${sig.toUpperCase()}`]]) {
  hostile(`auth: ${label} → AuthError 401`, async () => {
    const c = await RawClient.connect(server);
    const name = uniq('private-');
    const sig = privateAuth(server.app, c.socketId, name).auth.split(':')[1];
    assertSubscriptionError(await c.subscribe(name, { auth: auth(server.app, sig) }), name, { type: 'AuthError', status: 401 });
    await c.ping();
  });
}

hostile('presence: channel_data that is not JSON, correctly signed → InvalidChannelData 400', async () => {
  const c = await RawClient.connect(server);
  const name = uniq('presence-');
  const f = await c.subscribe(name, presenceAuth(server.app, c.socketId, name, 'not json'));
  assertSubscriptionError(f, name, { type: 'InvalidChannelData', status: 400 });
});

for (const [label, userId] of [['an object', { id: 1 }], ['a boolean', true], ['null', null], ['an array', ['a']], ['an empty string', '']]) {
  hostile(`presence: a user_id that is ${label} → InvalidChannelData 400`, async () => {
    const c = await RawClient.connect(server);
    const name = uniq('presence-');
    const f = await c.subscribe(name, presenceAuth(server.app, c.socketId, name, { user_id: userId, user_info: {} }));
    assertSubscriptionError(f, name, { type: 'InvalidChannelData', status: 400 });
  });
}

for (const [label, userId] of [['a string', 'u-1'], ['a number', 42]]) {
  hostile(`presence: a user_id that is ${label} joins`, async () => {
    const c = await RawClient.connect(server);
    const name = uniq('presence-');
    const f = await c.subscribe(name, presenceAuth(server.app, c.socketId, name, { user_id: userId, user_info: {} }));
    assertSubscribed(f, name);
    // The id as the app's auth endpoint signed it (Laravel signs the auth identifier, often an int).
    assert.deepEqual(JSON.parse(f.data).presence.ids, [userId]);
  });
}

hostile('limits: 1,000 subscribes on one connection all succeed', async () => {
  const c = await RawClient.connect(server);
  const prefix = uniq('many-');
  for (let i = 0; i < 1000; i++) c.send({ event: 'pusher:subscribe', data: { channel: `${prefix}-${i}` } });
  for (let i = 0; i < 1000; i++) {
    assertSubscribed(await c.nextEvent('pusher_internal:subscription_succeeded', { channel: `${prefix}-${i}`, timeout: 10_000 }), `${prefix}-${i}`);
  }
});

// max_subscriptions (default 1,000): expected to pass with branch robust.
hostile('limits: the 1,001st subscribe on one connection → subscription_error LimitReached', async () => {
  const c = await RawClient.connect(server);
  const prefix = uniq('limit-');
  for (let i = 0; i <= 1000; i++) c.send({ event: 'pusher:subscribe', data: { channel: `${prefix}-${i}` } });
  const f = await c.nextEvent('pusher:subscription_error', { timeout: 10_000 });
  assertSubscriptionError(f, `${prefix}-1000`, { type: 'LimitReached' });
  assert.equal(c.received('pusher_internal:subscription_succeeded').length, 1000);
});

hostile('limits: the same channel subscribed 100 times is one subscription', async () => {
  const c = await RawClient.connect(server);
  const name = uniq('same-');
  for (let i = 0; i < 100; i++) c.send({ event: 'pusher:subscribe', data: { channel: name } });
  for (let i = 0; i < 100; i++) await c.nextEvent('pusher_internal:subscription_succeeded', { channel: name });
  const res = await signedRequest(server, { method: 'GET', path: `/apps/${server.app.id}/channels/${name}`, query: { info: 'subscription_count' } });
  assertHttpOk(res);
  assert.equal(res.json.subscription_count, 1, res.body);
  await publish(server, { channel: name, name: 'once', data: {} });
  await c.ping();
  assert.equal(c.received('once', name).length, 1, 'one event, not 100');
});

hostile('limits: a client event over 10 KB → pusher:error 4300, not delivered, the connection goes on', async () => {
  const sender = await RawClient.connect(server);
  const receiver = await RawClient.connect(server);
  const name = uniq('private-');
  assertSubscribed(await sender.subscribePrivate(name, server.app), name);
  assertSubscribed(await receiver.subscribePrivate(name, server.app), name);
  sender.send({ event: 'client-big', channel: name, data: { pad: 'x'.repeat(11 * 1024) } });
  assertPusherError(await sender.nextEvent('pusher:error'), 4300);
  sender.send({ event: 'client-small', channel: name, data: { ok: true } });
  await receiver.nextEvent('client-small', { channel: name });
  assert.equal(receiver.received('client-big').length, 0);
});

// ---------------------------------------------------------------------------------------------
// The HTTP API

const APP = () => server.app;

hostile('http: an unsigned request → 401', async () => {
  assertHttpError(await httpRequest(server, { path: `/apps/${APP().id}/channels` }), 401);
});

hostile('http: a wrong signature → 401, nothing published', async () => {
  const c = await RawClient.connect(server);
  const name = uniq('sig-');
  assertSubscribed(await c.subscribe(name), name);
  const res = await signedRequest(server, { path: `/apps/${APP().id}/events`, body: { name: 'forged', channel: name, data: '{}' }, secret: 'wrong' });
  assertHttpError(res, 401);
  await publish(server, { channel: name, name: 'sentinel', data: {} });
  await c.nextEvent('sentinel', { channel: name });
  assert.equal(c.received('forged').length, 0);
});

for (const [label, skew] of [['stale (10 minutes and 1 s old)', -601], ['future (10 minutes and 1 s ahead)', 601]]) {
  hostile(`http: a ${label} auth_timestamp → 401`, async () => {
    const res = await signedRequest(server, { method: 'GET', path: `/apps/${APP().id}/channels`, timestamp: Math.floor(Date.now() / 1000) + skew });
    assertHttpError(res, 401);
  });
}

hostile('http: a body_md5 that does not match the body → 401', async () => {
  const res = await signedRequest(server, { path: `/apps/${APP().id}/events`, body: { name: 'e', channel: 'x', data: '{}' }, bodyMd5: md5Hex('other') });
  assertHttpError(res, 401);
});

hostile('http: a signed body that is not JSON → 400', async () => {
  assertHttpError(await signedRequest(server, { path: `/apps/${APP().id}/events`, body: 'name=e&channel=x' }), 400);
});

hostile('http: a signed body that is a JSON array → 400', async () => {
  assertHttpError(await signedRequest(server, { path: `/apps/${APP().id}/events`, body: '[]' }), 400);
});

hostile('http: a 2 MB body → 413', async () => {
  const body = JSON.stringify({ name: 'e', channel: 'x', data: 'x'.repeat(2 * 1024 * 1024) });
  assertHttpError(await signedRequest(server, { path: `/apps/${APP().id}/events`, body }), 413);
});

hostile('http: 101 channels in one event → 400', async () => {
  const channels = Array.from({ length: 101 }, (_, i) => `c${i}`);
  const res = await signedRequest(server, { path: `/apps/${APP().id}/events`, body: { name: 'e', channels, data: '{}' } });
  assertHttpError(res, 400, { messageMatches: /100 channels/ });
});

hostile('http: 11 events in one batch → 400', async () => {
  const batch = Array.from({ length: 11 }, () => ({ name: 'e', channel: 'x', data: '{}' }));
  assertHttpError(await signedRequest(server, { path: `/apps/${APP().id}/batch_events`, body: { batch } }), 400, { messageMatches: /10 events/ });
});

hostile('http: %00 in a channel name in the path → 400', async () => {
  const path = `/apps/${APP().id}/channels/a%00b`;
  assertHttpError(await signedRequest(server, { method: 'GET', path }), 400);
});

hostile('http: a NUL in a channel name in the body → 400', async () => {
  const res = await signedRequest(server, { path: `/apps/${APP().id}/events`, body: { name: 'e', channel: 'a\u0000b', data: '{}' } });
  assertHttpError(res, 400);
});

// Expected to pass with branch robust (escapes decoded before the name is checked).
hostile('http: an escaped channel name in the body (esc\\u002d…) publishes to esc-…', async () => {
  const c = await RawClient.connect(server);
  const tail = uniq('');
  assertSubscribed(await c.subscribe(`esc-${tail}`), `esc-${tail}`);
  const body = `{"name":"escaped","channel":"esc\\u002d${tail}","data":"{}"}`;
  assertHttpOk(await signedRequest(server, { path: `/apps/${APP().id}/events`, body }));
  await c.nextEvent('escaped', { channel: `esc-${tail}` });
});

hostile('http: .. in the path (not normalised by the client) → 404', async () => {
  const sock = await RawSocket.connect(server);
  const path = `/apps/${APP().id}/channels/../events`;
  const params = { auth_key: APP().key, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0' };
  params.auth_signature = signParams({ method: 'GET', path, params, secret: APP().secret });
  const qs = new URLSearchParams(params).toString();
  sock.write(`GET ${path}?${qs} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  const res = await sock.response();
  assert.equal(res.status, 404, res.head);
});

hostile('http: a 5 KB filter_by_prefix → 200 with no channels', async () => {
  const res = await signedRequest(server, { method: 'GET', path: `/apps/${APP().id}/channels`, query: { filter_by_prefix: 'p'.repeat(5 * 1024) } });
  assertHttpOk(res, { channels: {} });
});

for (const [method, route] of [['GET', 'events'], ['PUT', 'events'], ['DELETE', 'batch_events'], ['POST', 'channels']]) {
  hostile(`http: ${method} /apps/{id}/${route} → 405`, async () => {
    const body = method === 'GET' || method === 'DELETE' ? undefined : '{}';
    assertHttpError(await signedRequest(server, { method, path: `/apps/${APP().id}/${route}`, body }), 405);
  });
}

hostile('http: POST /apps/{id}/users/terminate_connections with no user id → 400 at once', async () => {
  const res = await signedRequest(server, { path: `/apps/${APP().id}/users/terminate_connections`, body: {} });
  assertHttpError(res, 400);
});

hostile('http: Content-Length with Transfer-Encoding → answered, then the connection is closed; the pipelined request is never read (RFC 9112 6.1)', async () => {
  const c = await RawClient.connect(server);
  const name = uniq('smuggle-');
  assertSubscribed(await c.subscribe(name), name);
  const path = `/apps/${APP().id}/events`;
  const body = JSON.stringify({ name: 'first', channel: name, data: '{}' });
  const params = { auth_key: APP().key, auth_timestamp: String(Math.floor(Date.now() / 1000)), auth_version: '1.0', body_md5: md5Hex(body) };
  params.auth_signature = signParams({ method: 'POST', path, params, secret: APP().secret });
  const qs = new URLSearchParams(params).toString();
  const chunked = `${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`;
  const smuggledBody = JSON.stringify({ name: 'smuggled', channel: name, data: '{}' });
  const smuggled = `POST ${path}?${qs} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${smuggledBody.length}\r\n\r\n${smuggledBody}`;
  const sock = await RawSocket.connect(server);
  sock.write(
    `POST ${path}?${qs} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${chunked.length}\r\nTransfer-Encoding: chunked\r\n\r\n${chunked}${smuggled}`,
  );
  const res = await sock.response();
  assert.equal(res.headers.connection, 'close', res.head);
  await sock.closed();
  assert.equal(sock.buf.length, 0, `a second response: ${sock.buf.toString()}`);
  await c.nextEvent('first', { channel: name });
  await publish(server, { channel: name, name: 'sentinel', data: {} });
  await c.nextEvent('sentinel', { channel: name });
  assert.equal(c.received('smuggled').length, 0, 'the pipelined request was read');
});

hostile('http: an unknown auth_key → 401', async () => {
  assertHttpError(await signedRequest(server, { method: 'GET', path: `/apps/${APP().id}/channels`, authKey: 'no-such-key' }), 401);
});

hostile('http: a signature computed over another path → 401', async () => {
  const res = await signedRequest(server, { method: 'GET', path: `/apps/${APP().id}/channels`, signPath: `/apps/${APP().id}/connections` });
  assertHttpError(res, 401);
});

function parseData(frame) {
  return typeof frame.data === 'string' ? JSON.parse(frame.data) : frame.data;
}
