// From nothing to Echo receiving a broadcast, and the server's webhooks reaching the app: a
// fresh skeleton Laravel app, then only `composer require pogo/websocket` (this repository as a
// path repository, offline), `php artisan pogo:ws-install` and `bin/frankenphp run --config
// Caddyfile`.

import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { after, describe, test } from 'node:test';
import { closeAllClients, connectPusher, createEcho, deferred, withTimeout } from '../support/clients.js';
import { addFixtures, artisan, composer, createSkeleton, readEnv, startApp } from './support/app.js';

// Every file of the app but the ones Laravel writes as it runs, with its content.
function snapshot(dir) {
  const files = {};
  const walk = (d) => {
    for (const name of readdirSync(d)) {
      const path = join(d, name);
      const rel = relative(dir, path);
      if (/^(storage|bootstrap\/cache|vendor|\.composer-home)(\/|$)/.test(rel)) continue;
      if (statSync(path).isDirectory()) walk(path);
      else files[rel] = readFileSync(path, 'utf8');
    }
  };
  walk(dir);
  return files;
}

describe('installation on a fresh Laravel app', () => {
  let app;
  let server;
  after(async () => {
    await closeAllClients();
    await server?.stop();
    if (app) rmSync(app.dir, { recursive: true, force: true });
  });

  test('composer require, pogo:ws-install and frankenphp run: Echo receives a broadcast, the app a webhook', async () => {
    app = await createSkeleton();

    await composer(app, ['require', 'pogo/websocket']);
    // Laravel's package discovery found the service provider.
    assert.match(readFileSync(join(app.dir, 'bootstrap/cache/packages.php'), 'utf8'), /Pogo\\\\WebSocket\\\\WebSocketServiceProvider/);

    const installed = await artisan(app, ['pogo:ws-install']);
    assert.match(installed.stdout, /Next: frankenphp run --config Caddyfile/);
    const env = readEnv(app);
    assert.equal(env.BROADCAST_CONNECTION, 'pogo');
    assert.equal(env.BROADCAST_DRIVER, 'pogo', "Laravel 8's config reads BROADCAST_DRIVER");
    assert.match(env.WS_APP_SECRET, /^[0-9a-f]{64}$/);

    // A second run changes nothing.
    const before = snapshot(app.dir);
    const again = await artisan(app, ['pogo:ws-install']);
    assert.match(again.stdout, /nothing changed/);
    assert.deepEqual(snapshot(app.dir), before);

    // The application's own event and a page that fires it.
    addFixtures(app, 'hello');
    server = await startApp(app);

    // Echo configured as resources/js/echo.js says, with the values .env holds.
    assert.equal(env.VITE_POGO_APP_KEY, '${WS_APP_ID}');
    const echoJs = readFileSync(join(app.dir, 'resources/js/echo.js'), 'utf8');
    assert.match(echoJs, /key: import\.meta\.env\.VITE_POGO_APP_KEY/);
    const client = await connectPusher(server, { app: { key: env.WS_APP_ID } });
    const echo = createEcho(client);
    const greetings = echo.channel('greetings');
    const subscribed = deferred();
    greetings.subscribed(() => subscribed.resolve());
    await withTimeout(subscribed.promise, 5000, 'subscription to greetings');
    const received = deferred();
    greetings.listen('Hello', (payload) => received.resolve(payload));

    const res = await fetch(`${server.url}/hello/world`, { signal: AbortSignal.timeout(10_000) });
    assert.equal(res.status, 200, await res.text());

    assert.deepEqual(await withTimeout(received.promise, 5000, 'Hello on greetings'), { to: 'world' });

    // The subscription occupied `greetings`: the server's channel_occupied webhook, signed with
    // the installed webhook_secret, became a ChannelOccupied event in the app (fixtures/hello).
    const log = join(app.dir, 'storage/app/occupied.log');
    const deadline = Date.now() + 10_000;
    while (!(existsSync(log) && readFileSync(log, 'utf8').split('\n').includes('greetings'))) {
      assert.ok(Date.now() < deadline, `no ChannelOccupied for greetings in 10 s:\n${server.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  });
});
