// Clients for the end-to-end tests: pusher-js, Laravel Echo, raw `ws`, the `pusher` server SDK,
// and hand-signed HTTP requests. Every client opened here is closed by closeAllClients(),
// which useServer() (support/server.js) runs after each test.

import { createHash, createHmac } from 'node:crypto';
import Pusher from 'pusher-js';
import PusherServer from 'pusher';
import Echo from 'laravel-echo';
import WebSocket from 'ws';

export const DEFAULT_TIMEOUT = 3000;

// ---------------------------------------------------------------------------------------------
// Bookkeeping

const openClients = new Set();

function track(closer) {
  openClients.add(closer);
  return () => openClients.delete(closer);
}

export async function closeAllClients() {
  const closers = [...openClients];
  openClients.clear();
  await Promise.allSettled(closers.map((c) => withTimeout(Promise.resolve(c()), 2000, 'a client to close')));
}

// ---------------------------------------------------------------------------------------------
// Waiting

// Resolves or rejects with `promise`, or rejects after `ms` with a message naming `what`.
export function withTimeout(promise, ms = DEFAULT_TIMEOUT, what = 'operation') {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${typeof what === 'function' ? what() : what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

export function deferred() {
  let resolve, reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

// Parses a JSON string, or returns the value unchanged (wire `data` may be either).
export function parseMaybe(value) {
  if (typeof value !== 'string') return value;
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

// A unique channel/event suffix so tests sharing one server never see each other's traffic.
let counter = 0;
export function uniq(prefix = '') {
  counter += 1;
  return `${prefix}${process.pid}-${Date.now().toString(36)}-${counter}`;
}

// ---------------------------------------------------------------------------------------------
// Signatures, exactly as a Laravel backend (pusher-http-php) computes them

export function hmacHex(secret, text) {
  return createHmac('sha256', secret).update(text).digest('hex');
}

export function md5Hex(text) {
  return createHash('md5').update(text).digest('hex');
}

export function privateAuth(app, socketId, channel) {
  return { auth: `${app.key}:${hmacHex(app.secret, `${socketId}:${channel}`)}` };
}

// `channelData` is the exact string that will be sent as channel_data.
export function presenceAuth(app, socketId, channel, channelData) {
  const data = typeof channelData === 'string' ? channelData : JSON.stringify(channelData);
  return { auth: `${app.key}:${hmacHex(app.secret, `${socketId}:${channel}:${data}`)}`, channel_data: data };
}

export function userAuth(app, socketId, userData) {
  const data = typeof userData === 'string' ? userData : JSON.stringify(userData);
  return { auth: `${app.key}:${hmacHex(app.secret, `${socketId}::user::${data}`)}`, user_data: data };
}

// The per-channel key pusher-js needs to decrypt private-encrypted- channels, derived as the
// `pusher` SDK (and pusher-http-php) derive it: sha256(channel_name + master_key).
export function encryptedSharedSecret(channel, masterKey) {
  return createHash('sha256').update(Buffer.concat([Buffer.from(channel), masterKey])).digest('base64');
}

export const ENCRYPTION_MASTER_KEY = Buffer.from('0123456789abcdef0123456789abcdef'); // 32 bytes

// ---------------------------------------------------------------------------------------------
// pusher-js

// Options:
//   app               { id, key, secret } (default: server.app)
//   presence          presence member: { user_id, user_info } or a function (channel) => member
//   user              signed-in user_data object for pusher.signin() (e.g. { id: '1' })
//   authorize         (channel, socketId) => auth result | Error: overrides the local signer
//   signin            (socketId) => { auth, user_data } | Error: overrides user sign-in signing
//   pusher            extra pusher-js options
export function createPusher(server, opts = {}) {
  const app = opts.app || server.app;
  const channelAuthorizer = ({ socketId, channelName }, callback) => {
    try {
      let result;
      if (opts.authorize) {
        result = opts.authorize(channelName, socketId);
      }
      if (result === undefined) {
        if (channelName.startsWith('presence-')) {
          const member = typeof opts.presence === 'function' ? opts.presence(channelName) : opts.presence;
          if (!member) throw new Error(`no presence member given for ${channelName}`);
          result = presenceAuth(app, socketId, channelName, member);
        } else {
          result = privateAuth(app, socketId, channelName);
          if (channelName.startsWith('private-encrypted-')) {
            result.shared_secret = encryptedSharedSecret(channelName, opts.encryptionMasterKey || ENCRYPTION_MASTER_KEY);
          }
        }
      }
      if (result instanceof Error) callback(result, null);
      else callback(null, result);
    } catch (err) {
      callback(err, null);
    }
  };
  const userAuthenticator = ({ socketId }, callback) => {
    try {
      let result;
      if (opts.signin) result = opts.signin(socketId);
      if (result === undefined) {
        if (!opts.user) throw new Error('no user given for sign-in');
        result = userAuth(app, socketId, opts.user);
      }
      if (result instanceof Error) callback(result, null);
      else callback(null, result);
    } catch (err) {
      callback(err, null);
    }
  };
  const client = new Pusher(app.key, {
    wsHost: server.host || '127.0.0.1',
    wsPort: server.port,
    forceTLS: false,
    enabledTransports: ['ws'],
    cluster: 'mt1',
    disableStats: true,
    channelAuthorization: { customHandler: channelAuthorizer },
    userAuthentication: { customHandler: userAuthenticator },
    ...(opts.pusher || {}),
  });
  // Every decoded message the connection receives, in order (pusher_internal:* included).
  client.received = [];
  client.connection.bind('message', (ev) => client.received.push(ev));
  const untrack = track(async () => {
    client.disconnect();
  });
  client.close = () => {
    untrack();
    client.disconnect();
  };
  return client;
}

// Resolves when the pusher-js connection is `connected`; rejects on failed/unavailable/timeout.
export function connected(client, ms = DEFAULT_TIMEOUT) {
  if (client.connection.state === 'connected') return Promise.resolve(client);
  const d = deferred();
  const onState = ({ current }) => {
    if (current === 'connected') d.resolve(client);
    else if (current === 'failed' || current === 'unavailable') d.reject(new Error(`pusher-js connection became ${current}`));
  };
  const onError = (err) => {
    const data = errorData(err);
    if (data && typeof data.code === 'number' && data.code >= 4000 && data.code < 4100) {
      d.reject(new Error(`pusher-js connection refused: ${JSON.stringify(data)}`));
    }
  };
  client.connection.bind('state_change', onState);
  client.connection.bind('error', onError);
  return withTimeout(d.promise, ms, 'pusher-js to connect').finally(() => {
    client.connection.unbind('state_change', onState);
    client.connection.unbind('error', onError);
  });
}

export async function connectPusher(server, opts = {}) {
  const client = createPusher(server, opts);
  await connected(client, opts.timeout);
  return client;
}

// Subscribes and resolves with the channel once pusher:subscription_succeeded fires; rejects
// with the subscription_error data if that fires instead.
// Signs a pusher-js client in and waits until its #server-to-user-<id> channel is subscribed.
export async function signedInPusher(server, user) {
  const client = await connectPusher(server, { user });
  client.signin();
  const channel = `#server-to-user-${user.id}`;
  await nextMessage(client, (m) => m.event === 'pusher:signin_success', { what: 'pusher:signin_success' });
  await nextMessage(client, (m) => m.event === 'pusher_internal:subscription_succeeded' && m.channel === channel, {
    what: `subscription to ${channel}`,
  });
  return client;
}

export async function subscribe(client, name, ms = DEFAULT_TIMEOUT) {
  const channel = client.subscribe(name);
  await subscribed(channel, ms);
  return channel;
}

export function subscribed(channel, ms = DEFAULT_TIMEOUT) {
  if (channel.subscribed) return Promise.resolve(channel);
  const d = deferred();
  const ok = () => d.resolve(channel);
  const ko = (err) => {
    const e = new Error(`subscription to ${channel.name} failed: ${JSON.stringify(err)}`);
    e.data = err;
    d.reject(e);
  };
  channel.bind('pusher:subscription_succeeded', ok);
  channel.bind('pusher:subscription_error', ko);
  return withTimeout(d.promise, ms, `subscription to ${channel.name}`).finally(() => {
    channel.unbind('pusher:subscription_succeeded', ok);
    channel.unbind('pusher:subscription_error', ko);
  });
}

// Resolves with the first subscription_error on the channel (rejects if it subscribes instead).
export function subscriptionError(channel, ms = DEFAULT_TIMEOUT) {
  const d = deferred();
  const ok = () => d.reject(new Error(`${channel.name}: subscription succeeded, expected subscription_error`));
  const ko = (err) => d.resolve(err);
  channel.bind('pusher:subscription_succeeded', ok);
  channel.bind('pusher:subscription_error', ko);
  return withTimeout(d.promise, ms, `subscription_error on ${channel.name}`).finally(() => {
    channel.unbind('pusher:subscription_succeeded', ok);
    channel.unbind('pusher:subscription_error', ko);
  });
}

// Resolves with { data, metadata } of the next `eventName` on a pusher-js channel (or the
// client's `user` facade, or the connection), optionally filtered.
export function nextEvent(emitter, eventName, { timeout = DEFAULT_TIMEOUT, filter = () => true } = {}) {
  const d = deferred();
  const handler = (data, metadata) => {
    if (filter(data, metadata)) d.resolve({ data, metadata });
  };
  emitter.bind(eventName, handler);
  return withTimeout(d.promise, timeout, `event ${eventName}`).finally(() => emitter.unbind(eventName, handler));
}

// Resolves with the next message received by the client's connection matching `pred`
// (searching what has already arrived from index `from` on).
export function nextMessage(client, pred, { timeout = DEFAULT_TIMEOUT, from = 0, what = 'a matching message' } = {}) {
  for (let i = from; i < client.received.length; i++) {
    if (pred(client.received[i])) return Promise.resolve(client.received[i]);
  }
  const d = deferred();
  const handler = (ev) => {
    if (pred(ev)) d.resolve(ev);
  };
  client.connection.bind('message', handler);
  return withTimeout(d.promise, timeout, what).finally(() => client.connection.unbind('message', handler));
}

// pusher-js wraps server errors as {type:'PusherError',data} or, during the handshake,
// {type:'WebSocketError',error:{type:'PusherError',data}}.
export function errorData(err) {
  return parseMaybe(err?.data ?? err?.error?.data ?? err);
}

// Resolves with { code, message } of the next error the server reports on the connection.
export function nextConnectionError(client, { timeout = DEFAULT_TIMEOUT, code } = {}) {
  const d = deferred();
  const handler = (err) => {
    const data = errorData(err);
    if (code === undefined || data?.code === code) d.resolve(data);
  };
  client.connection.bind('error', handler);
  return withTimeout(d.promise, timeout, `pusher:error${code ? ' ' + code : ''}`).finally(() =>
    client.connection.unbind('error', handler),
  );
}

export function stateBecomes(client, states, ms = DEFAULT_TIMEOUT) {
  const want = [].concat(states);
  if (want.includes(client.connection.state)) return Promise.resolve(client.connection.state);
  const d = deferred();
  const onState = ({ current }) => {
    if (want.includes(current)) d.resolve(current);
  };
  client.connection.bind('state_change', onState);
  return withTimeout(d.promise, ms, `connection state ${want.join('|')}`).finally(() =>
    client.connection.unbind('state_change', onState),
  );
}

// ---------------------------------------------------------------------------------------------
// Laravel Echo 2.x on a pre-built pusher-js client (Echo uses options.client when given).

export function createEcho(client, options = {}) {
  const echo = new Echo({ broadcaster: 'pusher', client, withoutInterceptors: true, ...options });
  return echo;
}

// ---------------------------------------------------------------------------------------------
// Raw WebSocket client (the `ws` package): every text frame parsed, in order.

export class RawClient {
  constructor(ws) {
    this.ws = ws;
    this.frames = []; // parsed JSON frames (or { __raw: string } if not JSON)
    this.rawFrames = [];
    this.cursor = 0; // frames before the cursor have all been returned by next()
    this.taken = new Set(); // indices at or after the cursor returned by next()
    this.waiters = new Set();
    this.closed = null; // { code, reason }
    this.closedPromise = new Promise((res) => {
      ws.on('close', (code, reason) => {
        this.closed = { code, reason: reason.toString() };
        res(this.closed);
        for (const w of this.waiters) w.check();
      });
    });
    this.pongs = 0;
    this.pings = 0;
    ws.on('pong', () => {
      this.pongs += 1;
      for (const w of this.waiters) w.check();
    });
    ws.on('ping', () => {
      this.pings += 1;
      for (const w of this.waiters) w.check();
    });
    ws.on('message', (buf, isBinary) => {
      const text = buf.toString();
      this.rawFrames.push({ text, isBinary });
      let parsed;
      try {
        parsed = JSON.parse(text);
      } catch {
        parsed = { __raw: text };
      }
      this.frames.push(parsed);
      for (const w of this.waiters) w.check();
    });
    ws.on('error', () => {});
    this.untrack = track(() => {
      this.terminate();
      return this.closedPromise;
    });
  }

  // Opens /app/{key}. Resolves once the socket is open; the handshake frame is in `frames`.
  static async open(server, { key, query = '?protocol=7&client=js&version=8.6.0&flash=false', path, headers, timeout = DEFAULT_TIMEOUT, autoPong = true } = {}) {
    const url = `${server.wsUrl}${path ?? `/app/${key ?? server.app.key}${query}`}`;
    const ws = new WebSocket(url, { headers, autoPong });
    const client = new RawClient(ws);
    await withTimeout(
      new Promise((res, rej) => {
        ws.once('open', res);
        ws.once('unexpected-response', (req, resp) => rej(new Error(`upgrade refused: HTTP ${resp.statusCode}`)));
        ws.once('error', rej);
      }),
      timeout,
      `WebSocket open ${url}`,
    );
    return client;
  }

  // Opens and waits for pusher:connection_established; returns the client with .socketId set.
  static async connect(server, opts = {}) {
    const client = await RawClient.open(server, opts);
    const frame = await client.next((f) => f.event === 'pusher:connection_established' || f.event === 'pusher:error', {
      what: 'pusher:connection_established',
    });
    if (frame.event !== 'pusher:connection_established') {
      throw new Error(`expected pusher:connection_established, got ${JSON.stringify(frame)}`);
    }
    client.established = parseMaybe(frame.data);
    client.socketId = client.established.socket_id;
    return client;
  }

  send(obj) {
    this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  }

  // Resolves with the earliest frame matching `pred` that no earlier next() returned, and marks it
  // as returned. With fromStart, any frame may match and none is marked.
  next(pred = () => true, { timeout = DEFAULT_TIMEOUT, what = 'a matching frame', fromStart = false } = {}) {
    const d = deferred();
    let settled = false; // a settled waiter stays registered until .finally runs: it takes no more frames
    const waiter = {
      check: () => {
        if (settled) return;
        for (let i = fromStart ? 0 : this.cursor; i < this.frames.length; i++) {
          if (!fromStart && this.taken.has(i)) continue;
          if (pred(this.frames[i])) {
            settled = true;
            if (!fromStart) {
              this.taken.add(i);
              while (this.taken.has(this.cursor)) this.taken.delete(this.cursor++);
            }
            d.resolve(this.frames[i]);
            return;
          }
        }
        if (this.closed) {
          d.reject(new Error(`socket closed (${this.closed.code} ${this.closed.reason}) while waiting for ${what}; frames: ${JSON.stringify(this.frames.slice(this.cursor)).slice(0, 2000)}`));
        }
      },
    };
    this.waiters.add(waiter);
    waiter.check();
    const describe = () =>
      `${what}; frames not yet returned: ${JSON.stringify(this.frames.filter((_, i) => i >= this.cursor && !this.taken.has(i))).slice(0, 2000)}`;
    return withTimeout(d.promise, timeout, describe).finally(() =>
      this.waiters.delete(waiter),
    );
  }

  nextEvent(event, opts = {}) {
    const channel = opts.channel;
    return this.next((f) => f.event === event && (channel === undefined || f.channel === channel), {
      what: `${event}${channel ? ' on ' + channel : ''}`,
      ...opts,
    });
  }

  // Subscribes and waits for subscription_succeeded or subscription_error (returned either way).
  async subscribe(channel, { auth, channel_data, timeout } = {}) {
    const data = { channel };
    if (auth !== undefined) data.auth = auth;
    if (channel_data !== undefined) data.channel_data = channel_data;
    this.send({ event: 'pusher:subscribe', data });
    return this.next(
      (f) =>
        f.channel === channel &&
        (f.event === 'pusher_internal:subscription_succeeded' || f.event === 'pusher:subscription_error'),
      { timeout, what: `subscription reply for ${channel}` },
    );
  }

  // Signs and subscribes to a private-/private-encrypted- channel with `app`'s secret.
  subscribePrivate(channel, app, opts = {}) {
    return this.subscribe(channel, { ...privateAuth(app, this.socketId, channel), ...opts });
  }

  // Signs and subscribes to a presence- channel as `member` ({ user_id, user_info }).
  subscribePresence(channel, member, app, opts = {}) {
    return this.subscribe(channel, { ...presenceAuth(app, this.socketId, channel, member), ...opts });
  }

  // Sends pusher:signin for `userData` signed with `app`'s secret; resolves with the reply
  // (pusher:signin_success or pusher:error).
  signin(userData, app, { auth, timeout } = {}) {
    const signed = userAuth(app, this.socketId, userData);
    this.send({ event: 'pusher:signin', data: { auth: auth ?? signed.auth, user_data: signed.user_data } });
    return this.next((f) => f.event === 'pusher:signin_success' || f.event === 'pusher:error', {
      timeout,
      what: 'the reply to pusher:signin',
    });
  }

  // Sends pusher:ping and waits for the pong (proves the connection is alive and in order).
  async ping(timeout) {
    this.send({ event: 'pusher:ping', data: {} });
    return this.next((f) => f.event === 'pusher:pong', { timeout, what: 'pusher:pong' });
  }

  // Sends a WebSocket ping control frame; resolves when a pong control frame comes back.
  wsPing(timeout = DEFAULT_TIMEOUT) {
    const before = this.pongs;
    this.ws.ping();
    return this._waitUntil(() => this.pongs > before, timeout, 'a WebSocket pong frame');
  }

  _waitUntil(cond, timeout, what) {
    const d = deferred();
    const waiter = {
      check: () => {
        if (cond()) d.resolve();
        else if (this.closed) d.reject(new Error(`socket closed (${this.closed.code}) while waiting for ${what}`));
      },
    };
    this.waiters.add(waiter);
    waiter.check();
    return withTimeout(d.promise, timeout, what).finally(() => this.waiters.delete(waiter));
  }

  waitClose(timeout = DEFAULT_TIMEOUT) {
    return withTimeout(this.closedPromise, timeout, 'the server to close the socket');
  }

  // Frames received so far with the given event (and channel).
  received(event, channel) {
    return this.frames.filter((f) => f.event === event && (channel === undefined || f.channel === channel));
  }

  close(code = 1000) {
    this.untrack();
    try {
      this.ws.close(code);
    } catch {
      // already closed
    }
    return this.closedPromise;
  }

  terminate() {
    this.untrack();
    try {
      this.ws.terminate();
    } catch {
      // already closed
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Publisher: the official `pusher` Node SDK.

export function createPublisher(server, { app, ...rest } = {}) {
  const a = app || server.app;
  return new PusherServer({
    appId: a.id,
    key: a.key,
    secret: a.secret,
    host: '127.0.0.1',
    port: String(server.port),
    useTLS: false,
    timeout: 5000,
    ...rest,
  });
}

// Reads a `pusher` SDK outcome (Response or RequestError) as { status, body, json, headers }.
export async function sdkResult(promise) {
  try {
    const res = await promise;
    const body = await res.text();
    return { status: res.status, body, json: parseMaybe(body), headers: res.headers };
  } catch (err) {
    if (err && err.status !== undefined) {
      return { status: err.status, body: err.body, json: parseMaybe(err.body), error: err };
    }
    throw err;
  }
}

// ---------------------------------------------------------------------------------------------
// Raw signed HTTP requests, with every part of the signature bendable.
//
//   signedRequest(server, { method: 'POST', path: '/apps/app-id/events', body: {...} })
//
// Options:
//   app          credentials (default server.app)
//   method       'GET' | 'POST' (default POST when body is given)
//   path         request path (what is sent)
//   signPath     path that is signed (default: path)
//   query        extra query params (object); values are sent percent-encoded, signed raw
//   body         object (JSON-encoded) or string (sent as is)
//   timestamp    auth_timestamp (default now)
//   authKey      auth_key (default app.key)
//   authVersion  auth_version (default '1.0')
//   bodyMd5      body_md5 value to send (default md5 of the body; `null` omits it)
//   signature    auth_signature to send (default: computed)
//   secret       secret used for signing (default app.secret)
//   omit         list of auth params to leave out of the URL (e.g. ['auth_signature'])
//   headers      extra headers
export function signParams({ method, path, params, secret }) {
  const keys = Object.keys(params)
    .filter((k) => k !== 'auth_signature')
    .sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? -1 : a.toLowerCase() > b.toLowerCase() ? 1 : 0));
  const query = keys.map((k) => `${k.toLowerCase()}=${params[k]}`).join('&');
  return hmacHex(secret, `${method.toUpperCase()}\n${path}\n${query}`);
}

export async function signedRequest(server, opts = {}) {
  const app = opts.app || server.app;
  const hasBody = opts.body !== undefined;
  const method = opts.method || (hasBody ? 'POST' : 'GET');
  const body = !hasBody ? '' : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body);
  const params = {
    auth_key: opts.authKey ?? app.key,
    auth_timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: opts.authVersion ?? '1.0',
    ...(opts.query || {}),
  };
  if (body !== '' && opts.bodyMd5 !== null) params.body_md5 = opts.bodyMd5 ?? md5Hex(body);
  const signature =
    opts.signature ??
    signParams({ method, path: opts.signPath ?? opts.path, params, secret: opts.secret ?? app.secret });
  params.auth_signature = signature;
  for (const k of opts.omit || []) delete params[k];
  const qs = Object.entries(params)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
    .join('&');
  return httpRequest(server, {
    method,
    path: `${opts.path}?${qs}`,
    body: hasBody ? body : undefined,
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...(opts.headers || {}) },
  });
}

// Plain HTTP request; resolves with { status, headers, body, json }.
export async function httpRequest(server, { method = 'GET', path, body, headers = {}, timeout = 5000 } = {}) {
  const res = await fetch(`${server.url}${path}`, {
    method,
    body,
    headers,
    signal: AbortSignal.timeout(timeout),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, body: text, json };
}

// Hand-signed POST /apps/{id}/events (no SDK-side validation or encryption); throws unless 200.
export async function publish(server, { name, channel, channels, data, socket_id, info, app } = {}) {
  const a = app || server.app;
  const body = { name, data: typeof data === 'string' ? data : JSON.stringify(data) };
  if (channels) body.channels = channels;
  else body.channel = channel;
  if (socket_id !== undefined) body.socket_id = socket_id;
  if (info !== undefined) body.info = info;
  const res = await signedRequest(server, { app: a, path: `/apps/${a.id}/events`, body });
  if (res.status !== 200) throw new Error(`publish ${name} failed: HTTP ${res.status} ${res.body}`);
  return res;
}
