// Raw TCP (node:net) for the bytes `ws` and fetch cannot produce: unmasked or reserved frames,
// lying lengths, bodies with both Content-Length and Transfer-Encoding, paths with `..`.
//
//   const sock = await RawSocket.upgrade(server);        // 101, then frames
//   sock.write(frame(OP.TEXT, '{"event":"pusher:ping"}'));
//   const f = await sock.nextFrame();                     // { fin, opcode, payload }
//   const { code } = await sock.closeFrame();             // the server's close frame, then EOF

import net from 'node:net';
import { randomBytes } from 'node:crypto';
import { DEFAULT_TIMEOUT, deferred, withTimeout } from './clients.js';

export const OP = Object.freeze({ CONT: 0x0, TEXT: 0x1, BINARY: 0x2, CLOSE: 0x8, PING: 0x9, PONG: 0xa });

const open = new Set();

// Destroys every socket still open (after each test, with the clients of support/clients.js).
export function destroyAllSockets() {
  for (const s of open) s.socket.destroy();
  open.clear();
}

/**
 * A client frame. `length` overrides the length written in the header (the payload sent is
 * `payload` whatever it says); `mask: false` sends it unmasked; `rsv` is the 3 reserved bits.
 */
export function frame(opcode, payload = '', { fin = true, rsv = 0, mask = true, length } = {}) {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const n = length ?? BigInt(body.length);
  const big = BigInt(n);
  let head;
  if (big < 126n) head = Buffer.from([0, Number(big)]);
  else if (big < 65536n) {
    head = Buffer.alloc(4);
    head[1] = 126;
    head.writeUInt16BE(Number(big), 2);
  } else {
    head = Buffer.alloc(10);
    head[1] = 127;
    head.writeBigUInt64BE(big, 2);
  }
  head[0] = (fin ? 0x80 : 0) | ((rsv & 7) << 4) | (opcode & 0xf);
  if (!mask) return Buffer.concat([head, body]);
  head[1] |= 0x80;
  const key = randomBytes(4);
  const masked = Buffer.from(body);
  for (let i = 0; i < masked.length; i++) masked[i] ^= key[i & 3];
  return Buffer.concat([head, key, masked]);
}

// A close frame with `code` (and `reason`, a string or Buffer).
export function closeFrame(code, reason = '') {
  const r = Buffer.isBuffer(reason) ? reason : Buffer.from(reason);
  const p = Buffer.alloc(2 + r.length);
  p.writeUInt16BE(code, 0);
  r.copy(p, 2);
  return frame(OP.CLOSE, p);
}

export function upgradeRequest(server, { method = 'GET', path, key = server.app.key, query = '?protocol=7&client=js&version=8.6.0', headers = {} } = {}) {
  const all = {
    Host: `127.0.0.1:${server.port}`,
    Upgrade: 'websocket',
    Connection: 'Upgrade',
    'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
    'Sec-WebSocket-Version': '13',
    ...headers,
  };
  const lines = [`${method} ${path ?? `/app/${key}${query}`} HTTP/1.1`];
  for (const [k, v] of Object.entries(all)) {
    if (v === null) continue;
    for (const one of Array.isArray(v) ? v : [v]) lines.push(`${k}: ${one}`);
  }
  return `${lines.join('\r\n')}\r\n\r\n`;
}

export class RawSocket {
  constructor(socket) {
    this.socket = socket;
    this.buf = Buffer.alloc(0);
    this.ended = false;
    this.waiters = new Set();
    this.endedPromise = new Promise((res) => socket.once('close', res));
    socket.on('data', (chunk) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      open.delete(this);
      this.wake();
    });
    socket.on('error', () => {});
    open.add(this);
  }

  static connect(server, timeout = DEFAULT_TIMEOUT) {
    const socket = net.connect({ host: '127.0.0.1', port: server.port });
    return withTimeout(
      new Promise((res, rej) => {
        socket.once('connect', () => res(new RawSocket(socket)));
        socket.once('error', rej);
      }),
      timeout,
      'a TCP connection',
    );
  }

  // Sends an upgrade request (see upgradeRequest) and resolves with the socket once the server
  // answers 101; rejects with the status otherwise.
  static async upgrade(server, opts = {}) {
    const sock = await RawSocket.connect(server);
    sock.write(upgradeRequest(server, opts));
    const res = await sock.response();
    if (res.status !== 101) throw new Error(`upgrade refused: HTTP ${res.status}\n${res.head}`);
    return sock;
  }

  write(data) {
    this.socket.write(data);
  }

  wake() {
    for (const w of this.waiters) w();
  }

  // Waits until take() returns a value (it consumes this.buf), or rejects at EOF or timeout.
  wait(take, what, timeout = DEFAULT_TIMEOUT) {
    const d = deferred();
    const check = () => {
      let v;
      try {
        v = take();
      } catch (err) {
        d.reject(err);
        return;
      }
      if (v !== undefined) d.resolve(v);
      else if (this.ended) d.reject(new Error(`connection closed while waiting for ${what}`));
    };
    this.waiters.add(check);
    check();
    return withTimeout(d.promise, timeout, what).finally(() => this.waiters.delete(check));
  }

  // The next HTTP response head (and its body when it has a Content-Length):
  // { status, headers (lower-case names), head, body }.
  response(timeout) {
    return this.wait(
      () => {
        const end = this.buf.indexOf('\r\n\r\n');
        if (end < 0) return undefined;
        const head = this.buf.subarray(0, end).toString('latin1');
        const [statusLine, ...lines] = head.split('\r\n');
        const headers = {};
        for (const l of lines) {
          const i = l.indexOf(':');
          headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
        }
        const length = Number(headers['content-length'] ?? 0);
        if (this.buf.length < end + 4 + length) return undefined;
        const body = this.buf.subarray(end + 4, end + 4 + length).toString();
        this.buf = this.buf.subarray(end + 4 + length);
        return { status: Number(statusLine.split(' ')[1]), headers, head, body };
      },
      'an HTTP response',
      timeout,
    );
  }

  // The next server frame: { fin, opcode, payload (Buffer), text }.
  nextFrame(timeout) {
    return this.wait(
      () => {
        const b = this.buf;
        if (b.length < 2) return undefined;
        let n = b[1] & 0x7f;
        let at = 2;
        if (n === 126) {
          if (b.length < 4) return undefined;
          n = b.readUInt16BE(2);
          at = 4;
        } else if (n === 127) {
          if (b.length < 10) return undefined;
          n = Number(b.readBigUInt64BE(2));
          at = 10;
        }
        if (b[1] & 0x80) throw new Error('the server sent a masked frame');
        if (b.length < at + n) return undefined;
        const payload = Buffer.from(b.subarray(at, at + n));
        this.buf = b.subarray(at + n);
        return { fin: (b[0] & 0x80) !== 0, opcode: b[0] & 0xf, payload, text: payload.toString() };
      },
      'a frame',
      timeout,
    );
  }

  // The next text frame parsed as JSON, skipping control frames.
  async nextEvent(timeout) {
    for (;;) {
      const f = await this.nextFrame(timeout);
      if (f.opcode === OP.TEXT) return JSON.parse(f.text);
      if (f.opcode === OP.CLOSE) throw new Error(`closed (${closeCode(f)}) while waiting for an event`);
    }
  }

  // Reads frames up to the server's close frame; resolves with { code, reason, frames (the
  // frames before it) } once the server has also closed the TCP connection.
  async closeFrame(timeout) {
    const frames = [];
    for (;;) {
      const f = await this.nextFrame(timeout);
      if (f.opcode !== OP.CLOSE) {
        frames.push(f);
        continue;
      }
      await withTimeout(this.endedPromise, timeout ?? DEFAULT_TIMEOUT, 'the server to close the TCP connection');
      return { code: closeCode(f), reason: f.payload.subarray(2).toString(), frames };
    }
  }

  // Resolves once the server closed the TCP connection.
  closed(timeout = DEFAULT_TIMEOUT) {
    return withTimeout(this.endedPromise, timeout, 'the server to close the TCP connection');
  }

  destroy() {
    this.socket.destroy();
  }
}

function closeCode(f) {
  return f.payload.length >= 2 ? f.payload.readUInt16BE(0) : null;
}
