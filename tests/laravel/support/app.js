// A real Laravel application for the end-to-end tests, built the way a user builds one:
// the skeleton app (laravel/tests/skeleton, Debian's php-laravel-framework 8.83), then
// `composer require pogo/websocket` from this repository (a path repository, offline),
// `php artisan pogo:ws-install`, and `bin/frankenphp run --config Caddyfile` in the app.
//
// Composer and the Laravel framework: there is no Composer registry here, and Debian's
// framework has no composer.json per component. The app's composer.json therefore declares
// that it `replace`s laravel/framework and every illuminate/* component at Debian's version,
// and autoloads Debian's framework (/usr/share/php/Illuminate/autoload.php) through
// autoload.files: `composer require` then resolves pogo/websocket's illuminate/*
// requirements against the root package, installs only pogo/websocket (symlinked) and runs
// Laravel's package discovery. Packagist is disabled so that nothing goes to the network.

import { execFile } from 'node:child_process';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { after, before } from 'node:test';
import { freePort, launch } from '../../support/server.js';
import { closeAllClients } from '../../support/clients.js';
import { FRANKENPHP } from '../../frankenphp/support/frankenphp.js';

const run = promisify(execFile);

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const SKELETON = join(ROOT, 'laravel', 'tests', 'skeleton');
export const FIXTURES = join(ROOT, 'tests', 'laravel', 'fixtures');
const DEBIAN_FRAMEWORK = '/usr/share/php/Illuminate';
const PHP = process.env.POGO_PHP_BIN || 'php';
const COMPOSER = process.env.POGO_COMPOSER_BIN || 'composer';

// Runs a command in the app; rejects with its output when it fails.
export async function sh(dir, file, args, { env = {}, timeout = 30_000 } = {}) {
  try {
    return await run(file, args, { cwd: dir, env: { ...process.env, ...env }, timeout, maxBuffer: 10 << 20 });
  } catch (err) {
    err.message = `${file} ${args.join(' ')} failed (exit ${err.code}):\n${err.stdout}\n${err.stderr}`;
    throw err;
  }
}

export function artisan(app, args, opts) {
  return sh(app.dir, PHP, ['artisan', ...args], opts);
}

// The composer.json of a skeleton app on Debian's framework (see the top of this file).
async function skeletonComposerJson() {
  const { stdout: version } = await run(PHP, ['-r', 'require "Illuminate/autoload.php"; echo Illuminate\\Foundation\\Application::VERSION;']);
  const replace = { 'laravel/framework': version };
  for (const name of readdirSync(DEBIAN_FRAMEWORK).sort()) {
    if (statSync(join(DEBIAN_FRAMEWORK, name)).isDirectory()) replace[`illuminate/${name.toLowerCase()}`] = version;
  }
  return {
    name: 'pogo/test-app',
    type: 'project',
    require: { php: '>=8.2' },
    replace,
    autoload: {
      files: [join(DEBIAN_FRAMEWORK, 'autoload.php')],
      'psr-4': { 'App\\': 'app/' },
      classmap: ['database/migrations'],
    },
    repositories: [{ type: 'path', url: ROOT }, { 'packagist.org': false }],
    scripts: { 'post-autoload-dump': ['@php artisan package:discover --ansi'] },
    'minimum-stability': 'dev',
    'prefer-stable': true,
  };
}

// A fresh skeleton app in a temporary folder, as `laravel new` leaves it (.env with a key,
// SQLite database migrated), without pogo/websocket.
export async function createSkeleton() {
  const dir = mkdtempSync(join(tmpdir(), 'pogo-laravel-'));
  cpSync(SKELETON, dir, { recursive: true });
  writeFileSync(join(dir, 'composer.json'), JSON.stringify(await skeletonComposerJson(), null, 4) + '\n');
  writeFileSync(join(dir, '.env'), readFileSync(join(dir, '.env.example')));
  writeFileSync(join(dir, 'database', 'database.sqlite'), '');
  const app = { dir, composerHome: join(dir, '.composer-home') };
  await composer(app, ['dump-autoload']);
  await artisan(app, ['key:generate']);
  await artisan(app, ['migrate', '--force']);
  return app;
}

export function composer(app, args) {
  return sh(app.dir, COMPOSER, args, { env: { COMPOSER_HOME: app.composerHome, COMPOSER_ALLOW_SUPERUSER: '1' } });
}

// The app's .env as an object.
export function readEnv(app) {
  const env = {};
  for (const line of readFileSync(join(app.dir, '.env'), 'utf8').split('\n')) {
    const m = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line);
    if (m) env[m[1]] = m[2].replace(/^"(.*)"$/, '$1');
  }
  return env;
}

// Copies tests/laravel/fixtures/<name> over the app (routes, events, channels of a test).
export function addFixtures(app, name) {
  cpSync(join(FIXTURES, name), app.dir, { recursive: true });
}

// Runs `bin/frankenphp run --config Caddyfile` in the app, on a free port (SERVER_NAME) with
// its own admin port (CADDY_ADMIN), and the server's webhooks sent to the app's /pogo/webhook
// on that port (POGO_WEBHOOK_URL), all three read by the installed Caddyfile.
export async function startApp(app, env = {}) {
  const port = await freePort();
  const adminPort = await freePort();
  const server = await launch({
    binary: FRANKENPHP,
    name: 'bin/frankenphp (Laravel)',
    port,
    cwd: app.dir,
    args: ['run', '--config', 'Caddyfile'],
    env: {
      ...process.env,
      SERVER_NAME: `:${port}`,
      CADDY_ADMIN: `127.0.0.1:${adminPort}`,
      POGO_WEBHOOK_URL: `http://127.0.0.1:${port}/pogo/webhook`,
      ...env,
    },
    readyWithin: 30_000,
    async ready(url) {
      const res = await fetch(`${url}/`, { signal: AbortSignal.timeout(2000) });
      await res.arrayBuffer();
      return res.status === 200;
    },
  });
  const dotenv = readEnv(app);
  server.app = { id: dotenv.WS_APP_ID, key: dotenv.VITE_POGO_APP_KEY === '${WS_APP_ID}' ? dotenv.WS_APP_ID : dotenv.VITE_POGO_APP_KEY, secret: dotenv.WS_APP_SECRET };
  server.apps = [server.app];
  return server;
}

// A browser-like session on the app: cookies kept between requests, CSRF token sent.
export class Session {
  constructor(server) {
    this.server = server;
    this.cookies = new Map();
    this.csrf = null;
  }

  get cookieHeader() {
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  async request(method, path, { body, headers = {} } = {}) {
    const res = await fetch(`${this.server.url}${path}`, {
      method,
      headers: {
        accept: 'application/json',
        ...(this.cookies.size ? { cookie: this.cookieHeader } : {}),
        ...(this.csrf && method !== 'GET' ? { 'x-csrf-token': this.csrf } : {}),
        ...(body instanceof URLSearchParams ? { 'content-type': 'application/x-www-form-urlencoded' } : {}),
        ...headers,
      },
      body: body instanceof URLSearchParams ? body.toString() : body,
      signal: AbortSignal.timeout(10_000),
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair.indexOf('=');
      this.cookies.set(pair.slice(0, i), pair.slice(i + 1));
    }
    const text = await res.text();
    let json;
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: res.status, body: text, json };
  }

  // Signs in as the user named `name` (created on first use) and keeps the CSRF token.
  async login(name) {
    const res = await this.request('GET', `/login/${name}`);
    if (res.status !== 200) throw new Error(`login ${name}: HTTP ${res.status}: ${res.body.slice(0, 2000)}`);
    this.csrf = res.json.csrf;
    this.user = res.json.user;
    return this;
  }

  // A guest's session: a session cookie and its CSRF token, nobody signed in.
  async visit() {
    const res = await this.request('GET', '/guest');
    if (res.status !== 200) throw new Error(`guest: HTTP ${res.status}: ${res.body.slice(0, 2000)}`);
    this.csrf = res.json.csrf;
    return this;
  }

  // pusher-js authorizers that POST to /pogo/auth and /pogo/user-auth as this session, as the
  // browser's Echo does (pusher-js's own Node transport cannot send cookies). Each answer's
  // status is passed to onAnswer(path, status).
  pusherOptions(onAnswer = () => {}) {
    const post = async (path, params, callback) => {
      try {
        const res = await this.request('POST', path, { body: new URLSearchParams(params) });
        onAnswer(path, res.status);
        if (res.status !== 200) callback(new Error(`${path}: HTTP ${res.status}`), { status: res.status });
        else callback(null, res.json);
      } catch (err) {
        callback(err, null);
      }
    };
    return {
      channelAuthorization: {
        customHandler: ({ socketId, channelName }, cb) => post('/pogo/auth', { socket_id: socketId, channel_name: channelName }, cb),
      },
      userAuthentication: {
        customHandler: ({ socketId }, cb) => post('/pogo/user-auth', { socket_id: socketId }, cb),
      },
    };
  }
}

// One app and one server per test file: built and started in before(), stopped in after().
// `prepare(app)` runs between the installation and the start.
export function useLaravelApp(prepare = async () => {}) {
  const ctx = {};
  before(async () => {
    ctx.app = await createSkeleton();
    await composer(ctx.app, ['require', 'pogo/websocket']);
    ctx.install = await artisan(ctx.app, ['pogo:ws-install']);
    await prepare(ctx.app);
    ctx.server = await startApp(ctx.app);
  });
  after(async () => {
    await closeAllClients();
    await ctx.server?.stop();
    if (!ctx.app) return;
    if (process.env.POGO_KEEP_APP) {
      // For debugging: the app stays, with the server's output beside it.
      writeFileSync(join(ctx.app.dir, 'frankenphp.log'), ctx.server?.output() ?? '');
      console.log(`# app kept in ${ctx.app.dir}`);
    } else {
      rmSync(ctx.app.dir, { recursive: true, force: true });
    }
  });
  return ctx;
}
