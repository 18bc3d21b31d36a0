// A real HTTP webhook receiver for the end-to-end tests, on 127.0.0.1.
//
//   const hooks = useWebhookReceiver();
//   useServer(async () => ({ options: [`webhook ${(await hooks.started).url('/all')}`] }));
//   const { event } = await hooks.nextEvent((e) => e.name === 'channel_occupied' && e.channel === ch);
//
// Every request is kept ({ path, headers, body, json, status, at }). How a path answers:
// `/hang...` never answers (until the receiver stops); `/flaky...` answers 500 to the first
// request carrying each channel, then 200; `/reject...` answers 403; any other path answers 200.

import http from 'node:http';
import { before, after } from 'node:test';
import { deferred, withTimeout } from './clients.js';

export class WebhookReceiver {
  constructor() {
    this.requests = [];
    this.waiters = new Set();
    this.failedOnce = new Set();
    this.hanging = new Set();
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  async start() {
    await new Promise((res, rej) => {
      this.server.once('error', rej);
      this.server.listen(0, '127.0.0.1', res);
    });
    this.port = this.server.address().port;
    return this;
  }

  url(path) {
    return `http://127.0.0.1:${this.port}${path}`;
  }

  handle(req, res) {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      let json = null;
      try {
        json = JSON.parse(body);
      } catch {
        // kept as is: a test asserting the format fails on json === null
      }
      const r = { path: req.url, headers: req.headers, body, json, at: Date.now(), status: 200 };
      if (req.url.startsWith('/hang')) {
        r.status = null;
        this.hanging.add(res);
        this.record(r);
        return;
      }
      if (req.url.startsWith('/reject')) r.status = 403;
      if (req.url.startsWith('/flaky')) {
        const channels = (json?.events || []).map((e) => e.channel);
        const fresh = channels.filter((c) => !this.failedOnce.has(c));
        if (fresh.length > 0) {
          for (const c of fresh) this.failedOnce.add(c);
          r.status = 500;
        }
      }
      res.writeHead(r.status, { 'Content-Type': 'text/plain' });
      res.end(r.status === 200 ? 'ok' : 'failing on purpose');
      this.record(r);
    });
  }

  record(r) {
    this.requests.push(r);
    for (const w of this.waiters) w.check();
  }

  // Resolves with the first request (from index `from`) that matches `pred`.
  nextRequest(pred, { timeout = 5000, what = 'a matching webhook request', from = 0 } = {}) {
    const d = deferred();
    const waiter = {
      check: () => {
        for (let i = from; i < this.requests.length; i++) {
          if (pred(this.requests[i])) return d.resolve(this.requests[i]);
        }
      },
    };
    this.waiters.add(waiter);
    waiter.check();
    const describe = () => `${what}; requests so far: ${JSON.stringify(this.requests.map((r) => [r.path, r.status, r.json])).slice(-3000)}`;
    return withTimeout(d.promise, timeout, describe).finally(() => this.waiters.delete(waiter));
  }

  // Resolves with { request, event } for the first event matching `pred` in a request to a path
  // starting with `path` (default: any) that was answered 200.
  async nextEvent(pred, { path = '', timeout, what = 'a matching webhook event' } = {}) {
    const find = (r) => r.status === 200 && r.path.startsWith(path) && (r.json?.events || []).find(pred);
    const request = await this.nextRequest((r) => Boolean(find(r)), { timeout, what });
    return { request, event: find(request) };
  }

  // Every event so far in requests to `path` answered 200 that matches `pred`.
  events(pred = () => true, { path = '' } = {}) {
    return this.requests
      .filter((r) => r.status === 200 && r.path.startsWith(path))
      .flatMap((r) => r.json?.events || [])
      .filter(pred);
  }

  async stop() {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise((res) => this.server.close(res));
  }
}

/** One receiver per test file, started by a before() hook; `started` resolves with it. */
export function useWebhookReceiver() {
  const receiver = new WebhookReceiver();
  const started = deferred();
  started.promise.catch(() => {});
  receiver.started = started.promise;
  before(async () => {
    try {
      started.resolve(await receiver.start());
    } catch (err) {
      started.reject(err);
      throw err;
    }
  });
  after(() => receiver.stop());
  return receiver;
}
