// A real redis-server for the multi-node tests (tests/cluster.test.js), and a minimal RESP client.
//
//   const redis = useRedis();                       // started before the file's tests
//   const node = useServer(async () => ({ options: [`redis ${(await redis.started).url}`] }));
//   await redis.kill();    // SIGKILL, as a crash would
//   await redis.start();   // again, on the same port
//   await redis.publish('pogo_websocket:app-id', Buffer.from([0xff, 0x00]));  // any bytes
//
// redis-server runs in the foreground on a free port of 127.0.0.1, without persistence, in a
// temporary directory; readiness is a RESP PING answered with +PONG (polled, with a deadline).
// `make test-e2e` installs redis-server (Debian's package) when it is missing;
// POGO_REDIS_SERVER runs another binary.

import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import net from 'node:net';
import { before, after } from 'node:test';
import { freePort } from './server.js';
import { withTimeout, deferred } from './clients.js';

export const REDIS_SERVER = process.env.POGO_REDIS_SERVER || 'redis-server';

// ---------------------------------------------------------------------------------------------
// RESP (REdis Serialization Protocol) over a plain TCP socket

// Encodes a command as a RESP array of bulk strings; arguments may be strings or Buffers.
export function encodeCommand(args) {
  const parts = [Buffer.from(`*${args.length}\r\n`)];
  for (const a of args) {
    const b = Buffer.isBuffer(a) ? a : Buffer.from(String(a));
    parts.push(Buffer.from(`$${b.length}\r\n`), b, Buffer.from('\r\n'));
  }
  return Buffer.concat(parts);
}

// Parses one RESP value at `offset`; returns { value, end } or null when more bytes are needed.
// Bulk strings are Buffers, errors are Error objects, nulls are null.
export function parseReply(buf, offset = 0) {
  if (offset >= buf.length) return null;
  const lineEnd = buf.indexOf('\r\n', offset);
  if (lineEnd < 0) return null;
  const type = String.fromCharCode(buf[offset]);
  const line = buf.toString('utf8', offset + 1, lineEnd);
  const next = lineEnd + 2;
  switch (type) {
    case '+':
      return { value: line, end: next };
    case '-':
      return { value: new Error(line), end: next };
    case ':':
      return { value: Number(line), end: next };
    case '$': {
      const len = Number(line);
      if (len < 0) return { value: null, end: next };
      if (buf.length < next + len + 2) return null;
      return { value: buf.subarray(next, next + len), end: next + len + 2 };
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return { value: null, end: next };
      const items = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return null;
        items.push(item.value);
        pos = item.end;
      }
      return { value: items, end: pos };
    }
    default:
      throw new Error(`unexpected RESP type byte 0x${buf[offset].toString(16)}`);
  }
}

// One Redis connection. `command()` resolves with each reply in order; once the connection has
// subscribed, every pushed message goes to `onPush` instead.
export class RespConnection {
  static connect(port, { host = '127.0.0.1', timeout = 2000 } = {}) {
    const socket = net.createConnection({ port, host });
    const conn = new RespConnection(socket);
    return withTimeout(
      new Promise((res, rej) => {
        socket.once('connect', () => res(conn));
        socket.once('error', rej);
      }),
      timeout,
      `a TCP connection to Redis on ${host}:${port}`,
    ).catch((err) => {
      socket.destroy();
      throw err;
    });
  }

  constructor(socket) {
    this.socket = socket;
    this.buffer = Buffer.alloc(0);
    this.pending = [];
    this.subscribed = false;
    this.onPush = null;
    this.closed = false;
    socket.on('data', (chunk) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      for (;;) {
        let parsed;
        try {
          parsed = parseReply(this.buffer);
        } catch (err) {
          this._fail(err);
          return;
        }
        if (!parsed) break;
        this.buffer = this.buffer.subarray(parsed.end);
        this._dispatch(parsed.value);
      }
    });
    socket.on('error', (err) => this._fail(err));
    socket.on('close', () => this._fail(new Error('Redis connection closed')));
  }

  _dispatch(value) {
    const kind = Array.isArray(value) && Buffer.isBuffer(value[0]) ? value[0].toString() : null;
    if (this.subscribed && (kind === 'message' || kind === 'pmessage')) {
      if (this.onPush) this.onPush(value);
      return;
    }
    const waiter = this.pending.shift();
    if (waiter) waiter.resolve(value);
  }

  _fail(err) {
    this.closed = true;
    for (const w of this.pending.splice(0)) w.reject(err);
  }

  command(args, timeout = 2000) {
    if (this.closed) return Promise.reject(new Error('Redis connection closed'));
    const d = deferred();
    this.pending.push(d);
    this.socket.write(encodeCommand(args));
    return withTimeout(d.promise, timeout, `the Redis reply to ${String(args[0])}`).then((v) => {
      if (v instanceof Error) throw v;
      return v;
    });
  }

  close() {
    this.closed = true;
    this.socket.destroy();
  }
}

// ---------------------------------------------------------------------------------------------
// redis-server

/**
 * A redis-server process on `port` (a free one by default). `start()` may be called again after
 * `kill()` or `stop()`: the server comes back on the same port, empty.
 */
export class RedisServer {
  // args: extra redis-server arguments (e.g. TLS); password: the requirepass they set, which ping() sends.
  constructor({ port, readyWithin = 10_000, args = [], password } = {}) {
    this.port = port ?? null;
    this.extraArgs = args;
    this.password = password;
    this.host = '127.0.0.1';
    this.readyWithin = readyWithin;
    this.child = null;
    this.exited = null;
    this.outputText = '';
    this.dir = null;
  }

  get url() {
    return `redis://${this.host}:${this.port}/0`;
  }

  output() {
    return this.outputText;
  }

  async start() {
    if (this.child && !this.exited) throw new Error('redis-server is already running');
    const fixedPort = this.port !== null;
    if (!fixedPort) this.port = await freePort();
    const deadline = Date.now() + this.readyWithin;
    for (let attempt = 1; ; attempt++) {
      try {
        await this._startOnce(deadline);
        return this;
      } catch (err) {
        const inUse = /Address already in use|Could not create server TCP listening socket/i.test(err.message);
        if (!inUse || Date.now() > deadline) throw err;
        // A fresh server may take another free port; a restart waits for its own to be released.
        if (!fixedPort && attempt < 3) this.port = await freePort();
        else await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async _startOnce(deadline) {
    this.dir = this.dir || mkdtempSync(join(tmpdir(), 'pogo-redis-'));
    const from = this.outputText.length;
    const args = ['--port', String(this.port), '--bind', this.host, '--save', '', '--appendonly', 'no',
      '--dir', this.dir, '--daemonize', 'no', '--loglevel', 'notice', ...this.extraArgs];
    const child = spawn(REDIS_SERVER, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    this.child = child;
    this.exited = null;
    const keep = (chunk) => {
      this.outputText += chunk.toString();
      if (this.outputText.length > 100_000) this.outputText = this.outputText.slice(-50_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    this.exitPromise = new Promise((res) => {
      child.on('exit', (code, signal) => {
        this.exited = { code, signal };
        res(this.exited);
      });
      child.on('error', (err) => {
        this.exited = { error: err.message };
        res(this.exited);
      });
    });
    for (;;) {
      if (this.exited) {
        throw new Error(`redis-server exited (${JSON.stringify(this.exited)}) before it was ready on port ${this.port}:\n${this.outputText.slice(from).slice(-3000)}`);
      }
      if (await this.ping().catch(() => false)) return;
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        await this.exitPromise;
        throw new Error(`redis-server was not ready on port ${this.port} within ${this.readyWithin / 1000} s:\n${this.outputText.slice(from).slice(-3000)}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  // True when the server answers PING with PONG.
  async ping() {
    const conn = await RespConnection.connect(this.port, { host: this.host, timeout: 500 });
    try {
      if (this.password) await conn.command(['AUTH', this.password], 500);
      return (await conn.command(['PING'], 500)) === 'PONG';
    } finally {
      conn.close();
    }
  }

  // SIGKILL: the server dies as in a crash; its clients see their connections reset.
  async kill() {
    await this._signal('SIGKILL');
  }

  // SIGTERM, then SIGKILL after 5 s.
  async stop() {
    await this._signal('SIGTERM');
  }

  async _signal(signal) {
    if (!this.child || this.exited) return;
    this.child.kill(signal);
    const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exitPromise;
    clearTimeout(t);
  }

  async restart() {
    await this.stop();
    return this.start();
  }

  // A new connection to this server (close it with `close()`): `conn.command(['PUBLISH', ch, msg])`.
  connect() {
    return RespConnection.connect(this.port, { host: this.host });
  }

  // Runs one command on a short-lived connection and returns its reply.
  async command(...args) {
    const conn = await RespConnection.connect(this.port, { host: this.host });
    try {
      if (this.password) await conn.command(['AUTH', this.password]);
      return await conn.command(args);
    } finally {
      conn.close();
    }
  }

  // PUBLISH `message` (string or Buffer: any bytes) to `channel`; resolves with the number of
  // subscribers Redis delivered it to.
  publish(channel, message) {
    return this.command('PUBLISH', channel, message);
  }

  // PSUBSCRIBE `pattern` on a new connection; every message is recorded in `messages` as
  // { channel: string, data: Buffer }. Close it with `close()`.
  async monitor(pattern = '*') {
    const conn = await RespConnection.connect(this.port, { host: this.host });
    const messages = [];
    const waiters = new Set();
    conn.onPush = (value) => {
      const kind = value[0].toString();
      const msg = kind === 'pmessage'
        ? { channel: value[2].toString(), data: value[3] }
        : { channel: value[1].toString(), data: value[2] };
      messages.push(msg);
      for (const w of waiters) w();
    };
    await conn.command(['PSUBSCRIBE', pattern]);
    conn.subscribed = true;
    return {
      messages,
      // Resolves with the first recorded message (already there or to come) matching `pred`.
      next(pred, { timeout = 3000, what = 'a message on Redis' } = {}) {
        const d = deferred();
        const check = () => {
          const m = messages.find(pred);
          if (m) d.resolve(m);
        };
        waiters.add(check);
        check();
        return withTimeout(d.promise, timeout, what).finally(() => waiters.delete(check));
      },
      close: () => conn.close(),
    };
  }

  // Stops the server and removes its directory.
  async cleanup() {
    await this.stop();
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = null;
  }
}

export async function startRedis(opts = {}) {
  return new RedisServer(opts).start();
}

/**
 * One redis-server per test file: started by a before() hook, stopped by an after() hook.
 * node:test runs a file's before() hooks concurrently, so a server that needs the Redis URL
 * waits for `redis.started` in its (async) config:
 *   useServer(async () => ({ options: [`redis ${(await redis.started).url}`] }))
 */
export function useRedis(opts = {}) {
  const redis = new RedisServer(opts);
  const started = deferred();
  started.promise.catch(() => {}); // reported by the hook; servers awaiting it fail too
  redis.started = started.promise;
  before(async () => {
    try {
      await redis.start();
      started.resolve(redis);
    } catch (err) {
      started.reject(err);
      throw err;
    }
  });
  after(async () => {
    const died = redis.exited && redis.exited.signal !== 'SIGKILL';
    await redis.cleanup();
    if (died || process.env.POGO_E2E_VERBOSE) console.error(`redis-server output:\n${redis.output()}`);
  });
  return redis;
}
