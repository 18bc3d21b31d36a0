// Starts the real server binary (bin/caddy) with a generated Caddyfile, for one test file.
//
//   const server = useServer({ options: ['client_events on'] });
//   test('...', async () => { server.port; server.app.key; ... });
//
// A file may call useServer() several times (e.g. several nodes sharing one Redis, see
// cluster.test.js); the servers start in that order.
//
// useServer() registers before/after hooks: the server starts once per file, every client
// opened through support/clients.js is closed after each test, and the server is stopped after
// the file. Its output is printed if it exits during the tests, or always with POGO_E2E_VERBOSE=1.
// POGO_CADDY_BIN runs another binary instead of bin/caddy.

import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import net from 'node:net';
import { before, after, afterEach } from 'node:test';
import { closeAllClients } from './clients.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CADDY = process.env.POGO_CADDY_BIN || join(ROOT, 'bin', 'caddy');

export const DEFAULT_APP = Object.freeze({ id: 'app-id', key: 'app-key', secret: 'app-secret' });

export const DEFAULT_MATCHER = '/app/* /apps/* /up /pogo/health';

// A free port below the kernel's ephemeral range (32768+ on Linux), so that client sockets opened
// meanwhile cannot take it between this check and bin/caddy binding it.
export async function freePort() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 20000 + Math.floor(Math.random() * 12000);
    const free = await new Promise((res) => {
      const srv = net.createServer();
      srv.unref();
      srv.once('error', () => res(false));
      srv.listen(port, '0.0.0.0', () => srv.close(() => res(true)));
    });
    if (free) return port;
  }
  throw new Error('no free port found');
}

// Builds the Caddyfile.
//  - options: extra option lines for the flat single-app form (e.g. 'client_events on')
//  - apps: [{ id, key, secret, options: [...] }] for the multi-app form; when given, the
//    flat form is not written (unless flat: true is passed too, then both are written)
//  - matcher: the path list of the @websocket matcher
//  - site: extra raw lines inside the site block
// (startServer also takes `name`, used in its error messages, and `env`.)
export function caddyfile(port, { app = DEFAULT_APP, options = [], apps = null, flat = undefined, matcher = DEFAULT_MATCHER, site = [] } = {}) {
  const lines = [];
  const writeFlat = flat ?? !apps;
  if (writeFlat) {
    lines.push(`\t\tapp_id ${app.id}`, `\t\tapp_key ${app.key}`, `\t\tapp_secret ${app.secret}`);
    for (const o of options) lines.push(`\t\t${o}`);
  }
  for (const a of apps || []) {
    lines.push(`\t\tapp ${a.id} {`, `\t\t\tkey ${a.key}`, `\t\t\tsecret ${a.secret}`);
    for (const o of a.options || []) lines.push(`\t\t\t${o}`);
    lines.push('\t\t}');
  }
  return [
    '{',
    '\tadmin off',
    '\tauto_https off',
    '}',
    `:${port} {`,
    ...site.map((l) => `\t${l}`),
    `\t@websocket path ${matcher}`,
    '\tpogo_websocket @websocket {',
    ...lines,
    '\t}',
    '}',
    '',
  ].join('\n');
}

export async function startServer(config = {}) {
  if (!existsSync(CADDY)) {
    throw new Error(`${CADDY} does not exist: build it first (make build)`);
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await startServerOnce(config);
    } catch (err) {
      // another process took the port between the check and the bind: try another one
      if (config.port || attempt >= 3 || !/address already in use/.test(err.message)) throw err;
    }
  }
}

async function startServerOnce(config) {
  const port = config.port ?? (await freePort());
  // A clean environment for the REVERB_* fallbacks: only what the test passes.
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('REVERB_')) delete env[k];
  Object.assign(env, config.env || {});
  const server = await launch({
    binary: CADDY,
    name: config.name ? `bin/caddy (${config.name})` : 'bin/caddy',
    port,
    text: caddyfile(port, config),
    env,
    readyWithin: 15_000,
    // Ready once GET /up answers.
    async ready(url) {
      const res = await fetch(`${url}/up`, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      return res.status < 500;
    },
  });
  server.app = config.apps && !config.flat ? { ...config.apps[0] } : { ...(config.app || DEFAULT_APP) };
  server.apps = config.apps || [config.app || DEFAULT_APP];
  return server;
}

// POGO_TEST_SHARDS=N runs every server of the suite with `num_shards N` (make test-e2e runs it with 1
// and with 4): the option opens each pogo_websocket block, so that a test's own num_shards, written
// later in the block, wins.
export const TEST_SHARDS = process.env.POGO_TEST_SHARDS || '';
if (TEST_SHARDS && !/^[1-9][0-9]*$/.test(TEST_SHARDS)) throw new Error(`POGO_TEST_SHARDS=${TEST_SHARDS}: want a number of shards`);

/** text with `num_shards $POGO_TEST_SHARDS` first in each pogo_websocket block, when it is set. */
export function withShards(text) {
  if (!TEST_SHARDS || !text) return text;
  return text.replace(/^([ \t]*pogo_websocket\b[^\n{]*\{)[ \t]*$/gm, `$1\n\t\tnum_shards ${TEST_SHARDS}`);
}

/**
 * Runs `binary run --config <text> --adapter caddyfile` (or `binary ...args` in `cwd`) in a
 * temporary home, keeps its output, and resolves once `ready(url)` is true (or rejects with the
 * output when it exits or times out). Shared by bin/caddy and bin/frankenphp
 * (tests/frankenphp/support, tests/laravel/support).
 */
export async function launch({ binary, name, port, text, env = process.env, ready, readyWithin, cwd, args }) {
  text = withShards(text);
  const dir = mkdtempSync(join(tmpdir(), 'pogo-e2e-'));
  const file = join(dir, 'Caddyfile');
  if (!args) writeFileSync(file, text);
  const child = spawn(binary, args ?? ['run', '--config', file, '--adapter', 'caddyfile'], {
    cwd,
    env: { ...env, HOME: dir, XDG_DATA_HOME: dir, XDG_CONFIG_HOME: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const keep = (chunk) => {
    output += chunk.toString();
    if (output.length > 200_000) output = output.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let exited = null;
  const exitPromise = new Promise((res) => {
    child.on('exit', (code, signal) => {
      exited = { code, signal };
      res(exited);
    });
  });

  const server = {
    name,
    port,
    host: '127.0.0.1',
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    caddyfile: text,
    child,
    output: () => output,
    exited: () => exited,
    async stop() {
      if (!exited) {
        child.kill('SIGTERM');
        const t = setTimeout(() => child.kill('SIGKILL'), 5000);
        await exitPromise;
        clearTimeout(t);
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };

  const deadline = Date.now() + readyWithin;
  for (;;) {
    if (exited) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`${name} exited (${JSON.stringify(exited)}) before it was ready.\nCaddyfile:\n${text}\nOutput:\n${output}`);
    }
    try {
      if (await ready(server.url)) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await server.stop();
      throw new Error(`${name} was not ready within ${readyWithin / 1000} s.\nCaddyfile:\n${text}\nOutput:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return server;
}

// Polls GET /pogo/health (every 50 ms, up to `timeout`) until its "broker" field is `state`,
// "up" or "down", and resolves with the health; rejects with the last answer on timeout.
export async function brokerBecomes(server, state, timeout = 5000) {
  const deadline = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const res = await fetch(`${server.url}/pogo/health`, { signal: AbortSignal.timeout(2000) });
      last = await res.json();
      if (last.broker === state) return last;
    } catch (err) {
      last = err.message;
    }
    if (Date.now() > deadline) {
      throw new Error(`${server.name}: "broker" did not become "${state}" within ${timeout} ms; last health: ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

// One server per test file. Returns a proxy object filled in by the before() hook.
// `config` may be a (async) function, called by that hook: for settings only known once
// another hook has run, e.g. the port of the redis-server of support/redis.js. (node:test runs
// a file's before() hooks concurrently: such a function awaits what it needs.)
export function useServer(config = {}) {
  return useProcess(async () => startServer(typeof config === 'function' ? await config() : config));
}

/**
 * Registers the hooks of one server per test file: `start()` before the tests, every client
 * closed after each test, the server stopped (its output printed if it died) after the file.
 */
export function useProcess(start) {
  const holder = {};
  before(async () => {
    Object.assign(holder, await start());
  });
  afterEach(async () => {
    await closeAllClients();
  });
  after(async () => {
    await closeAllClients();
    if (holder.stop) {
      const out = holder.output();
      if (holder.exited()) {
        console.error(`${holder.name} exited during the tests: ${JSON.stringify(holder.exited())}\n${out}`);
      }
      await holder.stop();
      if (process.env.POGO_E2E_VERBOSE) console.error(out);
    }
  });
  return holder;
}
