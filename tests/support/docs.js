// The Caddyfiles of the product documentation (tests/fixtures/docs, copied from the docs page, the
// package page and the first release's README), for the tests that load them as written.

import { readFileSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import Pusher from 'pusher-js';

const FIXTURES = resolve(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures', 'docs');

/** The documented Caddyfile `name` (docs-page, package-page, first-release), as written. */
export function documentedCaddyfile(name) {
  return readFileSync(join(FIXTURES, `${name}.Caddyfile`), 'utf8');
}

/** The `pogo_websocket { ... }` block of a Caddyfile, as written. */
export function pogoBlock(text) {
  const start = text.search(/^\s*pogo_websocket \{/m);
  if (start < 0) throw new Error('no pogo_websocket block');
  let depth = 0;
  for (let i = text.indexOf('{', start); i < text.length; i++) {
    if (text[i] === '{') depth++;
    else if (text[i] === '}' && --depth === 0) return text.slice(start, i + 1).trim();
  }
  throw new Error('unbalanced pogo_websocket block');
}

// The documented blocks set allowed_origins https://app.example.com ...; pusher-js in Node sends no
// Origin header, which allowed_origins refuses (4009) like Reverb. Its clients here open their
// sockets as the documented frontend's page would, with Origin https://app.example.com.
export const DOCUMENTED_ORIGIN = 'https://app.example.com';
export function pusherSendsOrigin(origin = DOCUMENTED_ORIGIN) {
  Pusher.Runtime.getWebSocketAPI = () =>
    class extends WebSocket {
      constructor(url) {
        super(url, { origin });
      }
    };
}
