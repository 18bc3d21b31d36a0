// The pogo_websocket blocks of the product documentation load in bin/caddy as written, in both
// forms the docs route them (`route /app/* { ... }` and `@websocket path ...` + `route @websocket`),
// and pusher-js connects through them. The blocks that configure PHP auth workers (auth_script,
// num_workers) are refused by bin/caddy with an error that names `make frankenphp`; they load in
// bin/frankenphp (tests/frankenphp/documented-caddyfile.test.js).
//
// The blocks are cut from verbatim copies (tests/fixtures/docs, see support/docs.js) and load as
// written, num_shards and shard_queue_size included.

import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CADDY, freePort, launch } from './support/server.js';
import { connectPusher, createPublisher, nextEvent, subscribe, uniq, closeAllClients } from './support/clients.js';
import { documentedCaddyfile, pogoBlock, pusherSendsOrigin } from './support/docs.js';

pusherSendsOrigin();

const APP = { id: 'pogo-app', key: 'change-me-to-a-random-public-app-key', secret: 'change-me-to-a-long-random-secret' };
// The package page's .env.
const ENV = {
  REVERB_APP_ID: APP.id,
  REVERB_APP_KEY: APP.key,
  REVERB_APP_SECRET: APP.secret,
  POGO_WEBHOOK_SECRET: 'change-me-to-a-different-random-secret',
  WS_APP_SECRET: APP.secret,
};

const servers = [];
after(async () => {
  await closeAllClients();
  for (const s of servers) await s.stop();
});

// The environment without REVERB_* variables: only what a test passes.
function cleanEnv() {
  return Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('REVERB_')));
}

function site(port, body) {
  return ['{', '\tadmin off', '\tauto_https off', '}', `:${port} {`, body, '}', ''].join('\n');
}

async function start(name, body, env = ENV) {
  const port = await freePort();
  const server = await launch({
    binary: CADDY,
    name: `bin/caddy (${name})`,
    port,
    text: site(port, body),
    env: { ...cleanEnv(), ...env },
    readyWithin: 15_000,
    // With `route /app/*` nothing else is routed: any HTTP answer means Caddy is serving.
    async ready(url) {
      const res = await fetch(`${url}/app/`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return true;
    },
  });
  servers.push(server);
  server.app = { ...APP };
  return server;
}

// Runs `bin/caddy validate` on a Caddyfile; resolves with { code, output }.
function validate(text, env = ENV) {
  const dir = mkdtempSync(join(tmpdir(), 'pogo-docs-'));
  const file = join(dir, 'Caddyfile');
  writeFileSync(file, text);
  return new Promise((res) => {
    execFile(
      CADDY,
      ['validate', '--config', file, '--adapter', 'caddyfile'],
      { env: { ...cleanEnv(), ...env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir }, timeout: 20_000 },
      (err, stdout, stderr) => {
        rmSync(dir, { recursive: true, force: true });
        res({ code: err ? (err.code ?? 1) : 0, output: stdout + stderr });
      },
    );
  });
}

async function receivesPublishedEvent(server) {
  const client = await connectPusher(server);
  const channel = await subscribe(client, uniq('orders-'));
  const got = nextEvent(channel, 'shipped');
  await createPublisher(server).trigger(channel.name, 'shipped', { id: 1 });
  assert.deepEqual((await got).data, { id: 1 });
}

test('the package page block loads in bin/caddy inside `route /app/* { }`, and pusher-js connects and subscribes', async () => {
  const block = pogoBlock(documentedCaddyfile('package-page'));
  const server = await start('package page, route /app/*', `\troute /app/* {\n${block}\n\t}`);
  const client = await connectPusher(server);
  assert.equal(client.connection.state, 'connected');
  await subscribe(client, uniq('orders-'));
});

test('the package page block loads in bin/caddy with its own `@websocket path ...` and `route @websocket { }`, and an HTTP API publish reaches pusher-js', async () => {
  const text = documentedCaddyfile('package-page');
  const matcher = text.match(/^\s*@websocket path .*$/m)[0].trim();
  assert.equal(matcher, '@websocket path /app/* /apps/* /up /pogo/health');
  const server = await start('package page, route @websocket', `\t${matcher}\n\troute @websocket {\n${pogoBlock(text)}\n\t}`);
  await receivesPublishedEvent(server);
  const up = await fetch(`${server.url}/up`);
  assert.deepEqual(await up.json(), { health: 'OK' });
});

for (const name of ['docs-page', 'first-release']) {
  test(`the ${name} block (auth_script, num_workers) is refused by bin/caddy with an error that names make frankenphp`, async () => {
    const block = pogoBlock(documentedCaddyfile(name));
    assert.match(block, /^\s*auth_script /m);
    const env = { ...ENV, APP_PUBLIC_PATH: 'public' };
    const { code, output } = await validate(site(await freePort(), `\troute /app/* {\n${block}\n\t}`), env);
    assert.notEqual(code, 0, output);
    assert.match(output, /auth_script and num_workers run PHP auth workers: they need the FrankenPHP build \(make frankenphp/);
  });
}

test('without its PHP-only lines, the docs page block loads in bin/caddy: every other documented option is known', async () => {
  const block = pogoBlock(documentedCaddyfile('docs-page'))
    .split('\n')
    .filter((l) => !/^\s*(auth_script|num_workers|auth_path)\b/.test(l))
    .join('\n');
  // The docs page's .env: WS_APP_SECRET, no REVERB_* variables.
  const env = { WS_APP_SECRET: APP.secret, POGO_WEBHOOK_SECRET: ENV.POGO_WEBHOOK_SECRET };
  const server = await start('docs page without PHP', `\troute /app/* {\n${block}\n\t}`, env);
  // The docs set no app_key: the key is the app id (VITE_POGO_APP_KEY="${WS_APP_ID}").
  server.app = { id: 'pogo-app', key: 'pogo-app', secret: APP.secret };
  const client = await connectPusher(server, { app: server.app });
  assert.equal(client.connection.state, 'connected');
});
