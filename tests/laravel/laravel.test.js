// A real Laravel application (Debian's framework 8.83, SQLite, session users) with
// pogo/websocket installed, served by bin/frankenphp from the Caddyfile pogo:ws-install wrote,
// against Laravel Echo on pusher-js. See support/app.js for how the app is built.

import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  connectPusher,
  createEcho,
  deferred,
  nextMessage,
  RawClient,
  uniq,
  withTimeout,
} from '../support/clients.js';
import { addFixtures, artisan, readEnv, Session, useLaravelApp } from './support/app.js';

const ctx = useLaravelApp(async (app) => addFixtures(app, 'app'));

// Resolves with the first `event` Echo delivers on `channel` (an Echo channel).
function echoReceives(channel, event, timeout = 5000) {
  const d = deferred();
  channel.listen(event, (payload) => d.resolve(payload));
  return withTimeout(d.promise, timeout, `${event} on ${channel.name}`);
}

// Resolves once an Echo channel is subscribed; rejects with its error.
function echoSubscribed(channel, timeout = 5000) {
  const d = deferred();
  channel.subscribed(() => d.resolve(channel));
  channel.error((err) => d.reject(new Error(`${channel.name}: ${JSON.stringify(err)}`)));
  return withTimeout(d.promise, timeout, `subscription to ${channel.name}`);
}

// Echo for a signed-in session (or a guest), on its own pusher-js connection.
async function echoFor(session, onAnswer) {
  const client = await connectPusher(ctx.server, { pusher: session.pusherOptions(onAnswer) });
  return { client, echo: createEcho(client), socketId: client.connection.socket_id };
}

// The webhook events the app's listener logged for `channel` (see fixtures/app/routes/web.php),
// once `done(log)` holds; polls until then, failing after `timeout` ms with what was logged.
async function webhooksOn(channel, done, timeout = 10_000) {
  const session = new Session(ctx.server);
  const deadline = Date.now() + timeout;
  for (;;) {
    const res = await session.request('GET', '/webhooks');
    assert.equal(res.status, 200, res.body.slice(0, 2000));
    const log = res.json.filter((e) => e.channel === channel);
    if (done(log)) return log;
    if (Date.now() > deadline) throw new Error(`webhooks on ${channel}: still ${JSON.stringify(log)} after ${timeout} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function ship(session, channels, order, { others = false, socketId, note = '', status = 200 } = {}) {
  const body = new URLSearchParams({ order: String(order), others: others ? '1' : '0', note });
  for (const c of channels) body.append('channels[]', c);
  const res = await session.request('POST', '/orders/ship', { body, headers: socketId ? { 'x-socket-id': socketId } : {} });
  assert.equal(res.status, status, res.body.slice(0, 3000));
  return res.json;
}

describe('Laravel on bin/frankenphp', () => {
  test('a ShouldBroadcast event dispatched in a request reaches Echo through the native path', async () => {
    const session = await new Session(ctx.server).login('ann');
    const { echo } = await echoFor(session);
    const name = uniq('orders-');
    const channel = echo.channel(name);
    await echoSubscribed(channel);
    const received = echoReceives(channel, 'OrderShipped'); // Echo's App\Events namespace

    const answer = await ship(session, [name], 41);

    assert.equal(answer.publisher, 'NativePublisher');
    const payload = await received;
    assert.equal(payload.orderId, 41);
    assert.equal(payload.via, 'request');
  });

  test('a native failure is a BroadcastException with the documented meaning and the code', async () => {
    const session = await new Session(ctx.server).login('ann');
    const { client } = await echoFor(session);
    const name = uniq('orders-');
    const channel = createEcho(client).channel(name);
    await echoSubscribed(channel);
    const orders = [];
    channel.listen('OrderShipped', (p) => orders.push(p.orderId));

    // Over the app's payload limit (10 KB by default): code 4, nothing delivered.
    const failed = await ship(session, [name], 1, { note: 'x'.repeat(11 * 1024), status: 500 });
    assert.deepEqual(failed, {
      exception: 'BroadcastException',
      message: 'Pogo WebSocket refused the event [App\\Events\\OrderShipped]: payload too large (code 4).',
      code: 4,
    });
    // A socket id that is not one: code 10.
    const bad = await ship(session, [name], 2, { others: true, socketId: 'not-a-socket', status: 500 });
    assert.equal(bad.code, 10);
    assert.match(bad.message, /invalid socket id \(code 10\)/);

    const delivered = echoReceives(channel, 'OrderShipped');
    await ship(session, [name], 3);
    assert.equal((await delivered).orderId, 3);
    assert.deepEqual(orders, [3]);
  });

  test('toOthers() skips the connection that sent the request', async () => {
    const session = await new Session(ctx.server).login('ann');
    const sender = await echoFor(session);
    const other = await echoFor(session);
    const name = uniq('orders-');
    const senderChannel = sender.echo.channel(name);
    const otherChannel = other.echo.channel(name);
    await Promise.all([echoSubscribed(senderChannel), echoSubscribed(otherChannel)]);
    const senderOrders = [];
    senderChannel.listen('OrderShipped', (p) => senderOrders.push(p.orderId));
    const otherGotFirst = echoReceives(otherChannel, 'OrderShipped');

    await ship(session, [name], 1, { others: true, socketId: sender.socketId });
    assert.equal((await otherGotFirst).orderId, 1);
    // Events on one channel arrive in order: once the sender has the second event, it would
    // have had the first.
    const senderGotSecond = echoReceives(senderChannel, 'OrderShipped');
    await ship(session, [name], 2, { socketId: sender.socketId });
    assert.equal((await senderGotSecond).orderId, 2);
    assert.deepEqual(senderOrders, [2]);
  });

  test('private and presence channels authorize through /pogo/auth with routes/channels.php', async () => {
    const ann = await new Session(ctx.server).login('ann');
    const bob = await new Session(ctx.server).login('bob');
    const annEcho = (await echoFor(ann)).echo;
    const bobEcho = (await echoFor(bob)).echo;

    const orders = annEcho.private(`orders.${ann.user.id}`);
    await echoSubscribed(orders);
    const room = `room.${uniq()}`;
    const annRoom = annEcho.join(room);
    await echoSubscribed(annRoom);
    const joined = deferred();
    annRoom.joining((member) => joined.resolve(member));
    const bobRoom = bobEcho.join(room);
    const members = deferred();
    bobRoom.here((list) => members.resolve(list));
    await echoSubscribed(bobRoom);
    assert.deepEqual(
      (await withTimeout(members.promise, 5000, 'here()')).map((m) => m.name).sort(),
      ['Ann', 'Bob'],
    );
    assert.deepEqual(await withTimeout(joined.promise, 5000, 'joining()'), { name: 'Bob' });

    // A broadcast on both reaches the private and the presence channel.
    const onOrders = echoReceives(orders, 'OrderShipped');
    const onRoom = echoReceives(annRoom, 'OrderShipped');
    await ship(ann, [`private-orders.${ann.user.id}`, `presence-${room}`], 7);
    assert.equal((await onOrders).orderId, 7);
    assert.equal((await onRoom).orderId, 7);
  });

  test("a channel routes/channels.php refuses reaches Echo's error()", async () => {
    const ann = await new Session(ctx.server).login('ann');
    const bob = await new Session(ctx.server).login('bob');
    const { echo } = await echoFor(bob);
    const failed = deferred();
    const channel = echo.private(`orders.${ann.user.id}`);
    channel.error((err) => failed.resolve(err));
    channel.subscribed(() => failed.reject(new Error('subscribed to another user\'s orders')));
    const err = await withTimeout(failed.promise, 5000, 'error()');
    assert.equal(err.type, 'AuthError');
    assert.match(err.error, /HTTP 403/);

    const guest = (await echoFor(await new Session(ctx.server).visit())).echo;
    const guestFailed = deferred();
    guest.private(`orders.${ann.user.id}`).error((e) => guestFailed.resolve(e));
    assert.match((await withTimeout(guestFailed.promise, 5000, 'guest error()')).error, /HTTP 403/);
  });

  test('pusher:signin works through /pogo/user-auth', async () => {
    const ann = await new Session(ctx.server).login('ann');
    const { client } = await echoFor(ann);
    client.signin();
    await nextMessage(client, (m) => m.event === 'pusher:signin_success', { what: 'pusher:signin_success', timeout: 5000 });
    const userChannel = `#server-to-user-${ann.user.id}`;
    await nextMessage(client, (m) => m.event === 'pusher_internal:subscription_succeeded' && m.channel === userChannel, {
      what: `subscription to ${userChannel}`,
    });
    const signin = client.received.find((m) => m.event === 'pusher:signin_success');
    const data = typeof signin.data === 'string' ? JSON.parse(signin.data) : signin.data;
    assert.deepEqual(JSON.parse(data.user_data), { id: String(ann.user.id) });

    // A guest's sign-in is refused by /pogo/user-auth (pusher-js then gives up quietly).
    const refused = deferred();
    const guest = (
      await echoFor(await new Session(ctx.server).visit(), (path, status) => {
        if (path === '/pogo/user-auth') refused.resolve(status);
      })
    ).client;
    guest.user.bind('pusher:signin_success', () => refused.reject(new Error('a guest signed in')));
    guest.signin();
    assert.equal(await withTimeout(refused.promise, 5000, 'the answer of /pogo/user-auth'), 403);
  });

  test('a subscribe without auth is authorized by websocket-worker.php with the WebSocket cookies', async () => {
    const ann = await new Session(ctx.server).login('ann');
    const bob = await new Session(ctx.server).login('bob');
    const client = await RawClient.connect(ctx.server, { headers: { Cookie: ann.cookieHeader } });

    const own = await client.subscribe(`private-orders.${ann.user.id}`, { timeout: 10_000 });
    assert.equal(own.event, 'pusher_internal:subscription_succeeded', JSON.stringify(own));
    const presence = await client.subscribe(`presence-room.${uniq()}`, { timeout: 10_000 });
    assert.equal(presence.event, 'pusher_internal:subscription_succeeded', JSON.stringify(presence));
    const hash = JSON.parse(presence.data).presence.hash;
    assert.deepEqual(hash, { [ann.user.id]: { name: 'Ann' } });

    const other = await client.subscribe(`private-orders.${bob.user.id}`, { timeout: 10_000 });
    assert.equal(other.event, 'pusher:subscription_error', JSON.stringify(other));

    const guest = await RawClient.connect(ctx.server);
    const refused = await guest.subscribe(`private-orders.${ann.user.id}`, { timeout: 10_000 });
    assert.equal(refused.event, 'pusher:subscription_error', JSON.stringify(refused));

    // The workers are long-lived: a user never leaks into the next request, whichever worker
    // serves it. Ann's channels stay hers, in turn with the guest's requests.
    for (let round = 0; round < 4; round++) {
      const channel = `presence-room.${uniq()}`;
      const g = await guest.subscribe(channel, { timeout: 10_000 });
      assert.equal(g.event, 'pusher:subscription_error', JSON.stringify(g));
      const a = await client.subscribe(channel, { timeout: 10_000 });
      assert.deepEqual(JSON.parse(a.data).presence.hash, { [ann.user.id]: { name: 'Ann' } }, JSON.stringify(a));
    }
  });

  test('the same broadcast from php artisan on the CLI arrives over the signed HTTP API', async () => {
    const session = await new Session(ctx.server).login('ann');
    const { echo } = await echoFor(session);
    const names = [uniq('orders-'), uniq('orders-')];
    const channels = names.map((n) => echo.channel(n));
    await Promise.all(channels.map((c) => echoSubscribed(c)));
    const received = channels.map((c) => echoReceives(c, 'OrderShipped', 10_000));

    const { stdout } = await artisan(ctx.app, ['orders:ship', '99', ...names], { env: { WS_PORT: String(ctx.server.port) } });

    assert.equal(stdout.trim(), 'HttpPublisher');
    for (const payload of await Promise.all(received)) {
      assert.equal(payload.orderId, 99);
      assert.equal(payload.via, 'cli');
    }
  });

  test('the HTTP path leaves out the socket id of toOthers() too', async () => {
    const session = await new Session(ctx.server).login('ann');
    const sender = await echoFor(session);
    const other = await echoFor(session);
    const name = uniq('orders-');
    const senderChannel = sender.echo.channel(name);
    const otherChannel = other.echo.channel(name);
    await Promise.all([echoSubscribed(senderChannel), echoSubscribed(otherChannel)]);
    const senderOrders = [];
    senderChannel.listen('OrderShipped', (p) => senderOrders.push(p.orderId));
    const otherGot = echoReceives(otherChannel, 'OrderShipped', 10_000);
    const env = { env: { WS_PORT: String(ctx.server.port) } };

    await artisan(ctx.app, ['orders:ship', '1', name, `--except=${sender.socketId}`], env);
    assert.equal((await otherGot).orderId, 1);
    const senderGot = echoReceives(senderChannel, 'OrderShipped', 10_000);
    await artisan(ctx.app, ['orders:ship', '2', name], env);
    assert.equal((await senderGot).orderId, 2);
    assert.deepEqual(senderOrders, [2]);
  });

  test('a refused HTTP publish is a BroadcastException on the CLI', async () => {
    await assert.rejects(
      artisan(ctx.app, ['orders:ship', '1', uniq('orders-')], { env: { WS_PORT: String(ctx.server.port), WS_APP_SECRET: 'not-the-secret' } }),
      /Pogo WebSocket refused the event[\s\S]*HTTP 401/,
    );
  });

  test("the server's webhooks become Laravel events: occupied, members added, a client event, members removed, vacated", async () => {
    const ann = await new Session(ctx.server).login('ann');
    const bob = await new Session(ctx.server).login('bob');
    const annEcho = (await echoFor(ann)).echo;
    const bobSide = await echoFor(bob);
    const room = `room.${uniq()}`;
    const channel = `presence-${room}`;
    const [annId, bobId] = [String(ann.user.id), String(bob.user.id)];
    const classes = (log) => log.map((e) => e.class);

    await echoSubscribed(annEcho.join(room));
    const bobRoom = bobSide.echo.join(room);
    await echoSubscribed(bobRoom);
    bobRoom.whisper('typing', { who: 'Bob' });
    const arrived = await webhooksOn(channel, (log) => log.length >= 4);
    assert.deepEqual(classes(arrived), ['ChannelOccupied', 'MemberAdded', 'MemberAdded', 'ClientEventReceived']);
    assert.deepEqual(arrived.slice(1, 3).map((e) => String(e.payload.user_id)), [annId, bobId]);
    const whisper = arrived[3].payload;
    assert.equal(whisper.event, 'client-typing');
    assert.deepEqual(JSON.parse(whisper.data), { who: 'Bob' });
    assert.equal(whisper.socket_id, bobSide.socketId);
    assert.equal(String(whisper.user_id), bobId);

    // Departures wait out the server's 3 s hold-back (reconnect flapping sends nothing).
    bobSide.echo.leave(room);
    const bobLeft = await webhooksOn(channel, (log) => log.length >= 5);
    assert.equal(bobLeft[4].class, 'MemberRemoved');
    assert.equal(String(bobLeft[4].payload.user_id), bobId);
    annEcho.leave(room);
    const vacated = await webhooksOn(channel, (log) => log.some((e) => e.class === 'ChannelVacated'));
    assert.deepEqual(classes(vacated).slice(4), ['MemberRemoved', 'MemberRemoved', 'ChannelVacated']);
    assert.equal(String(vacated[5].payload.user_id), annId);
  });

  test('a signed webhook becomes Laravel events; a forged one is 401', async () => {
    const secret = readEnv(ctx.app).POGO_WEBHOOK_SECRET;
    const channel = uniq('presence-room.');
    const body = JSON.stringify({
      time_ms: Date.now(),
      events: [
        { name: 'channel_occupied', channel },
        { name: 'member_added', channel, user_id: '7' },
      ],
    });
    const post = (signature) =>
      fetch(`${ctx.server.url}/pogo/webhook`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-pusher-key': ctx.server.app.key, 'x-pusher-signature': signature },
        body,
        signal: AbortSignal.timeout(5000),
      });

    const forged = await post(createHmac('sha256', 'another-secret').update(body).digest('hex'));
    assert.equal(forged.status, 401);
    const res = await post(createHmac('sha256', secret).update(body).digest('hex'));
    assert.equal(res.status, 200, await res.text());

    const log = (await new Session(ctx.server).request('GET', '/webhooks')).json.filter((e) => e.channel === channel);
    assert.deepEqual(log.map((e) => e.class), ['ChannelOccupied', 'MemberAdded']);
    assert.equal(log[1].payload.user_id, '7');
  });
});
