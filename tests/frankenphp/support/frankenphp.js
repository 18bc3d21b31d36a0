// Starts bin/frankenphp with a generated Caddyfile that serves tests/frankenphp/php through
// php_server next to the pogo_websocket handler, for one test file.
//
//   const server = useFrankenPHP({ options: ['client_events on'] });
//   test('...', async () => { await server.php('publish.php', calls); });
//
// The returned object has the shape tests/support/clients.js expects of a server
// (port, host, url, wsUrl, app), so connectPusher() and friends work on it.

import { existsSync } from 'node:fs';
import http from 'node:http';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_APP, DEFAULT_MATCHER, freePort, launch, useProcess } from '../../support/server.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
export const FRANKENPHP = process.env.POGO_FRANKENPHP_BIN || join(ROOT, 'bin', 'frankenphp');
export const ROOT_DIR = ROOT;
export const PHP_ROOT = join(ROOT, 'tests', 'frankenphp', 'php');

// Builds the Caddyfile.
//  - options: extra lines inside the pogo_websocket block (e.g. 'client_events on')
//  - frankenphp: extra lines inside the global frankenphp block
//  - site: extra raw lines at the top of the site block
//  - adminPort: serve Caddy's admin API on 127.0.0.1:adminPort (default: admin off)
// startFrankenPHP also takes env: extra environment variables for the server (and its PHP).
export function caddyfile(port, { app = DEFAULT_APP, options = [], frankenphp = [], site = [], matcher = DEFAULT_MATCHER, adminPort } = {}) {
  return [
    '{',
    adminPort ? `\tadmin 127.0.0.1:${adminPort}` : '\tadmin off',
    '\tauto_https off',
    '\tfrankenphp {',
    '\t\tnum_threads 4',
    ...frankenphp.map((l) => `\t\t${l}`),
    '\t}',
    '}',
    `:${port} {`,
    `\troot * ${PHP_ROOT}`,
    ...site.map((l) => `\t${l}`),
    // No route block: pogo_websocket is ordered before php_server.
    `\t@websocket path ${matcher}`,
    '\tpogo_websocket @websocket {',
    `\t\tapp_id ${app.id}`,
    `\t\tapp_key ${app.key}`,
    `\t\tapp_secret ${app.secret}`,
    ...options.map((o) => `\t\t${o}`),
    '\t}',
    '\tphp_server',
    '}',
    '',
  ].join('\n');
}

export async function startFrankenPHP(config = {}) {
  if (!existsSync(FRANKENPHP)) {
    throw new Error(`${FRANKENPHP} does not exist: build it first (make frankenphp)`);
  }
  const port = config.port ?? (await freePort());
  const server = await launch({
    binary: FRANKENPHP,
    name: 'bin/frankenphp',
    port,
    text: caddyfile(port, config),
    env: { ...process.env, ...(config.env || {}) },
    readyWithin: 20_000,
    // Ready once PHP answers (FrankenPHP replies 503 until its threads have started).
    async ready(url) {
      const res = await fetch(`${url}/ready.php`, { signal: AbortSignal.timeout(1000) });
      return res.status === 200 && (await res.text()) === 'ready';
    },
  });
  return Object.assign(server, {
    app: { ...(config.app || DEFAULT_APP) },
    apps: [config.app || DEFAULT_APP],
    // Loads a new configuration through the admin API (needs config.adminPort).
    async reload(newConfig) {
      const res = await fetch(`http://127.0.0.1:${config.adminPort}/load`, {
        method: 'POST',
        // Caddy refuses browser-like requests (fetch sends Sec-Fetch-Mode) without an allowed Origin.
        headers: { 'content-type': 'text/caddyfile', origin: `http://127.0.0.1:${config.adminPort}` },
        body: caddyfile(port, { ...config, ...newConfig }),
        signal: AbortSignal.timeout(20_000),
      });
      if (res.status !== 200) throw new Error(`reload: HTTP ${res.status}: ${await res.text()}\n${server.output()}`);
    },
    // POSTs body (JSON-encoded unless a string) to a PHP page; resolves with { status, body, json }.
    // Each call opens its own connection: a kept-alive one may be closed by a reload under it.
    async php(page, body = undefined) {
      const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
      const res = await new Promise((resolve, reject) => {
        const req = http.request(
          `${server.url}/${page}`,
          { method: payload === undefined ? 'GET' : 'POST', agent: false, headers: { 'content-type': 'application/json' }, timeout: 10_000 },
          (r) => {
            let text = '';
            r.setEncoding('utf8');
            r.on('data', (chunk) => (text += chunk));
            r.on('end', () => resolve({ status: r.statusCode, text }));
            r.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`${page}: no answer within 10 s`)));
        req.on('error', reject);
        req.end(payload);
      });
      const text = res.text;
      let json;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, body: text, json };
    },
  });
}

// One server per test file. Returns an object filled in by the before() hook.
export function useFrankenPHP(config = {}) {
  return useProcess(() => startFrankenPHP(config));
}
