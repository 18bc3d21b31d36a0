// Faults under load in the PHP auth workers: 100 connections subscribe at once to private
// channels whose auth script crashes (the worker exits) or hangs (sleeps past auth_timeout).
// Every subscribe is answered with subscription_error, the breaker opens (later calls are
// refused at once with 503), and public channels carry on: their subscribers get every event
// published meanwhile, in order, and a new connection subscribes to one at once.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { startFrankenPHP, ROOT_DIR } from './support/frankenphp.js';
import { RawClient, closeAllClients, parseMaybe, publish, uniq } from '../support/clients.js';

const SCRIPT = join(ROOT_DIR, 'tests', 'frankenphp', 'fixtures', 'auth.php');
const MATCHER = '/app/* /apps/* /up /pogo/health /pogo/auth*';
const SUBSCRIBES = 100;
const PUBLIC_SUBSCRIBERS = 10;

for (const mode of ['exit', 'sleep']) {
  test(`auth workers that ${mode === 'exit' ? 'crash' : 'hang'} under ${SUBSCRIBES} concurrent subscribes: the breaker opens, public channels are unaffected`, async () => {
    const server = await startFrankenPHP({
      options: [
        `auth_script ${SCRIPT}`,
        'num_workers 3',
        'auth_path /pogo/auth',
        'auth_timeout 500ms',
        'auth_breaker_failures 5',
        'auth_breaker_cooldown 30s',
        // 110 connections from one address in a moment: above the default handshake burst.
        'handshake_burst 1000',
      ],
      matcher: MATCHER,
    });
    try {
      const channel = uniq('public-steady-');
      const watchers = [];
      for (let i = 0; i < PUBLIC_SUBSCRIBERS; i++) {
        const ws = await RawClient.connect(server);
        assert.equal((await ws.subscribe(channel, { auth: '' })).event, 'pusher_internal:subscription_succeeded');
        watchers.push(ws);
      }
      // Public traffic throughout: one event every 20 ms, each awaited.
      let seq = 0;
      let storming = true;
      const publisher = (async () => {
        while (storming) {
          await publish(server, { name: 'steady', channel, data: { seq: ++seq } });
          await new Promise((r) => setTimeout(r, 20));
        }
      })();

      const steady = (n) =>
        watchers[0].next((f) => f.event === 'steady' && parseMaybe(f.data)?.seq >= n, { timeout: 5000, fromStart: true, what: `public event ${n}` });
      await steady(10); // public traffic flows before the storm, and goes on through it

      const storm = [];
      for (let i = 0; i < SUBSCRIBES; i++) storm.push(RawClient.connect(server, { headers: { Cookie: 'session=bob' } }));
      const conns = await Promise.all(storm);
      const started = Date.now();
      const replies = await Promise.all(conns.map((c, i) => c.subscribe(`private-${mode}-${i}-${uniq()}`, { timeout: 15_000 })));
      const answeredIn = Date.now() - started;

      // Meanwhile and afterwards, a new connection subscribes to a public channel at once.
      const fresh = await RawClient.connect(server);
      const t = Date.now();
      assert.equal((await fresh.subscribe(uniq('public-fresh-'), { auth: '' })).event, 'pusher_internal:subscription_succeeded');
      const publicSubscribeMs = Date.now() - t;

      // The breaker is open: a valid private subscribe is refused at once with 503.
      const probe = await RawClient.connect(server, { headers: { Cookie: 'session=bob' } });
      const p = Date.now();
      const open = await probe.subscribe(uniq('private-ok-'), { timeout: 5000 });
      const refusedIn = Date.now() - p;

      await steady(seq + 10);
      storming = false;
      await publisher;
      const last = seq;
      await Promise.all(watchers.map((ws) => ws.next((f) => f.event === 'steady' && parseMaybe(f.data)?.seq === last, { timeout: 5000, fromStart: true })));

      const statuses = {};
      for (const r of replies) statuses[r.data?.status ?? r.event] = (statuses[r.data?.status ?? r.event] || 0) + 1;
      console.log(`${mode}: ${SUBSCRIBES} subscribes answered in ${answeredIn} ms (${JSON.stringify(statuses)}); ` +
        `public subscribe ${publicSubscribeMs} ms; open breaker refused in ${refusedIn} ms; ${seq} public events published through the test, all delivered`);

      for (const r of replies) assert.equal(r.event, 'pusher:subscription_error', JSON.stringify(r));
      assert.ok(statuses[503] > 0, `the breaker never refused a call: ${JSON.stringify(statuses)}`);
      assert.equal(open.event, 'pusher:subscription_error', JSON.stringify(open));
      assert.equal(open.data?.status, 503, `an open breaker answers 503: ${JSON.stringify(open)}`);
      assert.ok(refusedIn < 500, `the open breaker took ${refusedIn} ms to refuse`);
      assert.ok(publicSubscribeMs < 1000, `a public subscribe took ${publicSubscribeMs} ms`);
      for (const [i, ws] of watchers.entries()) {
        const got = ws.received('steady', channel).map((f) => parseMaybe(f.data).seq);
        assert.deepEqual(got, Array.from({ length: seq }, (_, k) => k + 1), `public subscriber ${i} lost or reordered events`);
        assert.equal(ws.closed, null);
      }
      for (const c of conns) await c.ping();
      assert.equal(server.exited(), null);
    } finally {
      await closeAllClients();
      await server.stop();
    }
  });
}
