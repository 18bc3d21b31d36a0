// Helpers for the engine specs: they drive the real engine through its ABI
// (`reserve`, `process`, `output` of assembly/engine.ts) and decode the action
// batch it returns. Every frame is checked on the way out: a text frame must be
// FIN + text, unmasked, minimally sized and hold one valid JSON value; a close
// frame must carry a code. A malformed action batch fails the test.
//
// Each spec file is its own module with its own engine state, so helpers hand
// out fresh app indexes, connection ids and request ids: tests never share an
// app, a connection or a channel unless they mean to.

import { output, process as engineProcess, reserve } from "../engine";
import { Action, Event } from "../abi";
import { ByteBuffer } from "../frame/buffer";
import { HmacKey, hexEncode, hmacSha256Hex, md5 } from "../crypto";
import { validateValue } from "../json";

// ---------------------------------------------------------------------------
// Clock

let clock: u64 = 1700000000000;

/** The `now_ms` the next batch carries. */
export function now(): u64 {
  return clock;
}

/** Moves the engine's clock forward. */
export function advance(ms: u64): void {
  clock += ms;
}

/** The clock in Unix seconds, as `auth_timestamp` wants it. */
export function nowSeconds(): i64 {
  return <i64>(clock / 1000);
}

// ---------------------------------------------------------------------------
// Strings and JSON text

export function utf8(s: string): ArrayBuffer {
  return String.UTF8.encode(s);
}

/** A JSON string literal: `s` quoted, with `"`, `\` and control characters escaped (short forms where JSON has them). */
export function q(s: string): string {
  let r = "\"";
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x22) r += "\\\"";
    else if (c == 0x5c) r += "\\\\";
    else if (c == 0x0a) r += "\\n";
    else if (c == 0x09) r += "\\t";
    else if (c == 0x0d) r += "\\r";
    else if (c == 0x08) r += "\\b";
    else if (c == 0x0c) r += "\\f";
    else if (c < 0x20) {
      const h = "0123456789abcdef";
      r += "\\u00" + h.charAt(c >> 4) + h.charAt(c & 15);
    } else r += String.fromCharCode(c);
  }
  return r + "\"";
}

/** `s` repeated `n` times. */
export function rep(s: string, n: i32): string {
  let r = "";
  for (let i = 0; i < n; i++) r += s;
  return r;
}

/** Every `needle` in `s`. */
export function countOf(s: string, needle: string): i32 {
  let n = 0;
  let i = s.indexOf(needle);
  while (i >= 0) {
    n++;
    i = s.indexOf(needle, i + needle.length);
  }
  return n;
}

// Expected frames -------------------------------------------------------------

/** `{"event":"pusher:error","data":{"code":N,"message":"..."}}` */
export function errorFrame(code: i32, message: string): string {
  return "{\"event\":\"pusher:error\",\"data\":{\"code\":" + code.toString() + ",\"message\":" + q(message) + "}}";
}

export function succeededFrame(channel: string): string {
  return "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":" + q(channel) + ",\"data\":\"{}\"}";
}

/** A presence `subscription_succeeded` with the roster `presence` (JSON text). */
export function presenceSucceededFrame(channel: string, presence: string): string {
  return "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":" + q(channel) +
    ",\"data\":" + q("{\"presence\":" + presence + "}") + "}";
}

export function subscriptionErrorFrame(channel: string, type: string, error: string, status: i32): string {
  return "{\"event\":\"pusher:subscription_error\",\"channel\":" + q(channel) + ",\"data\":{\"type\":" + q(type) +
    ",\"error\":" + q(error) + ",\"status\":" + status.toString() + "}}";
}

/** A channel event whose `data` is the string `data`. */
export function eventFrame(event: string, channel: string, data: string): string {
  return "{\"event\":" + q(event) + ",\"channel\":" + q(channel) + ",\"data\":" + q(data) + "}";
}

export function closeEntry(code: i32, reason: string): string {
  return "close " + code.toString() + " " + reason;
}

// ---------------------------------------------------------------------------
// Signatures

/** Hex HMAC-SHA256 of `message` keyed by `secret`. */
export function hmacHex(secret: string, message: string): string {
  const key = utf8(secret);
  const msg = utf8(message);
  const out = new ArrayBuffer(64);
  hmacSha256Hex(
    new HmacKey(changetype<usize>(key), <usize>key.byteLength),
    changetype<usize>(msg), <usize>msg.byteLength, changetype<usize>(out),
  );
  return String.UTF8.decode(out);
}

/** Hex MD5 of the UTF-8 bytes of `s`. */
export function md5Hex(s: string): string {
  const b = utf8(s);
  const digest = new ArrayBuffer(16);
  md5(changetype<usize>(b), <usize>b.byteLength, changetype<usize>(digest));
  const out = new ArrayBuffer(32);
  hexEncode(changetype<usize>(digest), 16, changetype<usize>(out));
  return String.UTF8.decode(out);
}

// ---------------------------------------------------------------------------
// Event batches (host → engine)

/** Builds one event batch: `u64 now_ms`, then `kind, id, len, payload` records. */
export class Batch {
  private b: ByteBuffer = new ByteBuffer(512);
  private p: ByteBuffer = new ByteBuffer(256);

  constructor(at: u64) {
    const w = this.b.ensure(8);
    store<u64>(w, at);
    this.b.len += 8;
  }

  /** Appends a record whose payload is `p`, then clears `p`. */
  private record(kind: u8, id: u32): Batch {
    this.b.byte(kind);
    this.b.u32(id);
    this.b.u32(this.p.len);
    this.b.bytes(this.p.ptr, this.p.len);
    this.p.reset();
    return this;
  }

  private str16(s: string): void {
    const u = utf8(s);
    this.p.u16(<u16>u.byteLength);
    this.p.bytes(changetype<usize>(u), <u32>u.byteLength);
  }

  private str32(s: string): void {
    const u = utf8(s);
    this.p.u32(<u32>u.byteLength);
    this.p.bytes(changetype<usize>(u), <u32>u.byteLength);
  }

  private raw(s: string): void {
    const u = utf8(s);
    this.p.bytes(changetype<usize>(u), <u32>u.byteLength);
  }

  /** `APP`: id, key, secret, (option, value) pairs given flat, then allowed origin patterns. */
  app(index: u32, id: string, key: string, secret: string, options: Array<u32>, origins: Array<string> = []): Batch {
    this.str16(id);
    this.str16(key);
    this.str16(secret);
    const count = options.length >> 1;
    this.p.u16(<u16>count);
    for (let i = 0; i < count; i++) {
      this.p.u16(<u16>options[i << 1]);
      this.p.u32(options[(i << 1) + 1]);
    }
    if (origins.length > 0) {
      this.p.u16(<u16>origins.length);
      for (let i = 0; i < origins.length; i++) this.str16(origins[i]);
    }
    return this.record(<u8>Event.App, index);
  }

  /** OPEN: the app key, the Origin header (empty: none), then the raw query string. */
  open(conn: u32, key: string, origin: string = "", query: string = "protocol=7&client=js&version=8.4.0"): Batch {
    this.str16(key);
    this.str16(origin);
    this.raw(query);
    return this.record(<u8>Event.Open, conn);
  }

  message(conn: u32, text: string): Batch {
    this.raw(text);
    return this.record(<u8>Event.Message, conn);
  }

  closed(conn: u32): Batch {
    return this.record(<u8>Event.Closed, conn);
  }

  activity(conn: u32): Batch {
    return this.record(<u8>Event.Activity, conn);
  }

  tooLarge(conn: u32, size: u32): Batch {
    this.p.u32(size);
    return this.record(<u8>Event.TooLarge, conn);
  }

  http(req: u32, method: string, path: string, rawQuery: string, body: string): Batch {
    this.str16(method);
    this.str16(path);
    this.str32(rawQuery);
    this.str32(body);
    return this.record(<u8>Event.Http, req);
  }

  tick(): Batch {
    return this.record(<u8>Event.Tick, 0);
  }

  publish(appId: string, channelsJson: string, event: string, data: string, socketId: string): Batch {
    this.str16(appId);
    this.str32(channelsJson);
    this.str16(event);
    this.str32(data);
    this.str16(socketId);
    return this.record(<u8>Event.Publish, 0);
  }

  /** A record with an arbitrary payload (for malformed-record tests). */
  rawRecord(kind: u8, id: u32, payload: ArrayBuffer): Batch {
    this.p.bytes(changetype<usize>(payload), <u32>payload.byteLength);
    return this.record(kind, id);
  }

  /** AUTH_RESULT: the host's auth workers answered `status`, with `body` when 200. */
  authResult(conn: u32, channel: string, status: u16, body: string): Batch {
    const c = utf8(channel);
    this.p.u16(<u16>c.byteLength);
    this.p.bytes(changetype<usize>(c), <u32>c.byteLength);
    this.p.u16(status);
    const b = utf8(body);
    this.p.bytes(changetype<usize>(b), <u32>b.byteLength);
    return this.record(<u8>Event.AuthResult, conn);
  }

  /** REMOTE: a relay record from node `node` (another node's number). */
  remote(record: ArrayBuffer, node: u32 = 1): Batch {
    return this.rawRecord(<u8>Event.Remote, node, record);
  }

  /** NODE_GONE: node `node` stopped answering. */
  nodeGone(node: u32): Batch {
    return this.record(<u8>Event.NodeGone, node);
  }

  /** SYNC: relay every member present here. */
  sync(): Batch {
    return this.record(<u8>Event.Sync, 0);
  }

  /** DIGEST: relay this node's digest of every relaying app. */
  digest(): Batch {
    return this.record(<u8>Event.Digest, 0);
  }

  /** Appends bytes as they are, outside any record (for truncated batches). */
  appendRaw(bytes: ArrayBuffer): Batch {
    this.b.bytes(changetype<usize>(bytes), <u32>bytes.byteLength);
    return this;
  }

  shutdown(): Batch {
    return this.record(<u8>Event.Shutdown, 0);
  }

  /** Hands the batch to the engine and decodes the actions it returns. */
  run(): Actions {
    const n = this.b.len;
    const at = reserve(n);
    memory.copy(at, this.b.ptr, <usize>n);
    heap.free(this.b.ptr);
    heap.free(this.p.ptr);
    const len = engineProcess(n);
    return decodeActions(output(), len);
  }
}

/** A batch at the current clock. */
export function batch(): Batch {
  return new Batch(clock);
}

// ---------------------------------------------------------------------------
// Action batches (engine → host)

export class Act {
  /** SEND / BROADCAST: the frame's text. HTTP_RESPONSE: the body. CLOSE: the reason. */
  text: string = "";
  /** SEND: the connection. BROADCAST: every recipient, in order. */
  to: Array<u32> = [];
  /** CLOSE: the close code. HTTP_RESPONSE: the status. PUBLISH_RESULT: the code. RELAY: the flags of an event, else -kind. */
  code: i32 = -1;
  /** RELAY: the channel, the socket id to leave out, and the whole record (to feed back as REMOTE). */
  channel: string = "";
  socketId: string = "";
  record: ArrayBuffer = new ArrayBuffer(0);
  constructor(public kind: u8, public id: u32) {}
}

function check(ok: bool, what: string): void {
  if (!ok) {
    trace("malformed action batch: " + what);
    unreachable();
  }
}

/** Unframes a server text frame; checks its header and that it holds valid JSON. */
function textFrame(p: usize, n: usize): string {
  check(n >= 2, "text frame shorter than its header");
  check(load<u8>(p) == 0x81, "frame is not FIN + text");
  const b1 = <u32>load<u8>(p, 1);
  check((b1 & 0x80) == 0, "server frame is masked");
  let len: u64 = <u64>(b1 & 0x7f);
  let h: usize = 2;
  if (len == 126) {
    check(n >= 4, "truncated 16-bit length");
    len = <u64>bswap<u16>(load<u16>(p, 2));
    check(len >= 126, "16-bit length not minimal");
    h = 4;
  } else if (len == 127) {
    check(n >= 10, "truncated 64-bit length");
    len = bswap<u64>(load<u64>(p, 2));
    check(len >= 65536, "64-bit length not minimal");
    h = 10;
  }
  check(<u64>h + len == <u64>n, "frame length does not match its record");
  check(validateValue(p + h, <usize>len), "frame payload is not valid JSON");
  return String.UTF8.decodeUnsafe(p + h, <usize>len);
}

export function decodeActions(ptr: usize, len: u32): Actions {
  const acts = new Actions();
  let p = ptr;
  const end = ptr + <usize>len;
  while (p < end) {
    check(p + 9 <= end, "truncated action header");
    const kind = load<u8>(p);
    const id = load<u32>(p, 1);
    const n = <usize>load<u32>(p, 5);
    const pl = p + 9;
    check(pl + n <= end, "action payload past the end");
    const a = new Act(kind, id);
    if (kind == <u8>Action.Send) {
      a.text = textFrame(pl, n);
      a.to.push(id);
    } else if (kind == <u8>Action.Broadcast) {
      check(id == 0, "broadcast id is not 0");
      check(n >= 8, "broadcast too short");
      const fl = <usize>load<u32>(pl);
      check(<usize>8 + fl <= n, "broadcast frame past the record");
      a.text = textFrame(pl + 4, fl);
      const count = <usize>load<u32>(pl + 4 + fl);
      check(count > 0, "broadcast with no recipients");
      check(n == <usize>8 + fl + (count << 2), "broadcast length does not match its recipients");
      for (let i: usize = 0; i < count; i++) a.to.push(load<u32>(pl + 8 + fl + (i << 2)));
    } else if (kind == <u8>Action.Close) {
      check(n >= 4, "close frame without a code");
      check(load<u8>(pl) == 0x88, "close frame is not FIN + close");
      const fl = <usize>load<u8>(pl, 1);
      check(fl < 126 && <usize>2 + fl == n, "close frame length does not match its record");
      a.code = <i32>bswap<u16>(load<u16>(pl, 2));
      a.text = String.UTF8.decodeUnsafe(pl + 4, n - 4);
    } else if (kind == <u8>Action.HttpResponse) {
      check(n >= 2, "http response without a status");
      a.code = <i32>load<u16>(pl);
      check(validateValue(pl + 2, n - 2), "http body is not valid JSON");
      a.text = String.UTF8.decodeUnsafe(pl + 2, n - 2);
    } else if (kind == <u8>Action.PublishResult) {
      check(n == 4, "publish result is not a u32");
      a.code = <i32>load<u32>(pl);
    } else if (kind == <u8>Action.AuthRequest) {
      // Decoded as "<socket id> <channel>".
      check(n >= 4, "auth request too short");
      const sl = <usize>load<u16>(pl);
      check(<usize>4 + sl <= n, "auth request socket id past the record");
      const cl = <usize>load<u16>(pl + 2 + sl);
      check(<usize>4 + sl + cl == n, "auth request length does not match its record");
      a.text = String.UTF8.decodeUnsafe(pl + 2, sl) + " " + String.UTF8.decodeUnsafe(pl + 4 + sl, cl);
    } else if (kind == <u8>Action.Relay) {
      // An event: its channel, socket id, flags and message. A terminate or a user online or
      // offline: its user id in a.text.
      check(n >= 3, "relay too short");
      const rk = load<u8>(pl);
      let q = pl + 1;
      const il = <usize>load<u16>(q);
      q += 2 + il;
      check(q + 2 <= pl + n, "relay app id past the record");
      if (rk == 2 || rk == 9 || rk == 10) {
        // A terminate, or a user online (9) or offline (10): the user id.
        const ul = <usize>load<u16>(q);
        check(q + 2 + ul == pl + n, "relay user id does not end the record");
        a.code = -<i32>rk;
        a.text = String.UTF8.decodeUnsafe(q + 2, ul);
      } else if (rk == 5) {
        // A subscription count: "<count>".
        const cl = <usize>load<u16>(q);
        a.channel = String.UTF8.decodeUnsafe(q + 2, cl);
        check(q + 2 + cl + 4 == pl + n, "relay count does not end the record");
        a.code = -5;
        a.text = load<u32>(q + 2 + cl).toString();
      } else if (rk == 3 || rk == 4) {
        // A member: "<key>" when removed, "<key> <user_id JSON> <user_info JSON>" when added.
        a.code = -<i32>rk;
        const cl = <usize>load<u16>(q);
        a.channel = String.UTF8.decodeUnsafe(q + 2, cl);
        q += 2 + cl;
        check(q + 2 <= pl + n, "relay member channel past the record");
        const kl = <usize>load<u16>(q);
        a.text = String.UTF8.decodeUnsafe(q + 2, kl);
        q += 2 + kl;
        if (rk == 4) {
          check(q == pl + n, "relay member key does not end the record");
        } else {
          check(q + 2 <= pl + n, "relay member key past the record");
          const jl = <usize>load<u16>(q);
          check(q + 2 + jl <= pl + n, "relay member user_id past the record");
          a.text += " " + String.UTF8.decodeUnsafe(q + 2, jl) + " " + String.UTF8.decodeUnsafe(q + 2 + jl, pl + n - (q + 2 + jl));
        }
      } else if (rk >= 6 && rk <= 8) {
        // Anti-entropy (Digest, Want, State): only the kind; the record is kept whole.
        a.code = -<i32>rk;
      } else {
        check(rk == 1, "unknown relay kind");
        const cl = <usize>load<u16>(q);
        a.channel = String.UTF8.decodeUnsafe(q + 2, cl);
        q += 2 + cl;
        check(q + 2 <= pl + n, "relay channel past the record");
        const sl = <usize>load<u16>(q);
        a.socketId = String.UTF8.decodeUnsafe(q + 2, sl);
        q += 2 + sl;
        check(q + 1 <= pl + n, "relay socket id past the record");
        a.code = <i32>load<u8>(q);
        const ml = pl + n - (q + 1);
        check(validateValue(q + 1, ml), "relay message is not valid JSON");
        a.text = String.UTF8.decodeUnsafe(q + 1, ml);
      }
      a.record = new ArrayBuffer(<i32>n);
      memory.copy(changetype<usize>(a.record), pl, n);
    } else if (kind == <u8>Action.Webhook) {
      // "<L|R> <event JSON>" (L: this node sends it), the channel, and the user key in socketId.
      check(id == 0, "webhook id is not 0");
      let q = pl;
      check(q + 2 <= pl + n, "webhook too short");
      q += 2 + <usize>load<u16>(q);
      check(q + 4 <= pl + n, "webhook app id past the record");
      a.code = <i32>load<u8>(q);
      const local = load<u8>(q, 1) == 1;
      q += 2;
      const cl = <usize>load<u16>(q);
      check(q + 2 + cl + 2 <= pl + n, "webhook channel past the record");
      a.channel = String.UTF8.decodeUnsafe(q + 2, cl);
      q += 2 + cl;
      const ul = <usize>load<u16>(q);
      check(q + 2 + ul <= pl + n, "webhook user past the record");
      a.socketId = String.UTF8.decodeUnsafe(q + 2, ul);
      q += 2 + ul;
      check(validateValue(q, pl + n - q), "webhook event is not valid JSON");
      a.text = (local ? "L " : "R ") + String.UTF8.decodeUnsafe(q, pl + n - q);
    } else {
      check(false, "unknown action kind " + kind.toString());
    }
    acts.list.push(a);
    p = pl + n;
  }
  return acts;
}

function sortedIds(ids: Array<u32>): string {
  const c = ids.slice(0);
  c.sort((a: u32, b: u32): i32 => <i32>(a > b) - <i32>(a < b));
  return c.join(",");
}

export class Actions {
  list: Array<Act> = [];

  get length(): i32 {
    return this.list.length;
  }

  /**
   * What connection `conn` sees, in order, one line each: the text of every
   * frame sent or broadcast to it, and `close CODE REASON` for a close.
   */
  log(conn: u32): string {
    const lines = new Array<string>();
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind == <u8>Action.Close) {
        if (a.id == conn) lines.push(closeEntry(a.code, a.text));
      } else if (a.kind == <u8>Action.Send || a.kind == <u8>Action.Broadcast) {
        for (let k = 0; k < a.to.length; k++) {
          if (a.to[k] == conn) lines.push(a.text);
        }
      }
    }
    return lines.join("\n");
  }

  /** The frames (SEND and BROADCAST) delivered to `conn`, in order. */
  frames(conn: u32): Array<string> {
    const r = new Array<string>();
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind != <u8>Action.Send && a.kind != <u8>Action.Broadcast) continue;
      for (let k = 0; k < a.to.length; k++) if (a.to[k] == conn) r.push(a.text);
    }
    return r;
  }

  /** The close code sent to `conn`, or -1. */
  closeCode(conn: u32): i32 {
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind == <u8>Action.Close && a.id == conn) return a.code;
    }
    return -1;
  }

  /** Number of actions of `kind`. */
  count(kind: Action): i32 {
    let n = 0;
    for (let i = 0; i < this.list.length; i++) if (this.list[i].kind == <u8>kind) n++;
    return n;
  }

  /** The RELAY actions but subscription counts, in order. */
  relays(): Array<Act> {
    const r = new Array<Act>();
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind == <u8>Action.Relay && a.code != -5) r.push(a);
    }
    return r;
  }

  /** The WEBHOOK actions, in order, one line each: "<L|R> <event JSON>". */
  webhooks(): string {
    const r = new Array<string>();
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind == <u8>Action.Webhook) r.push(a.text);
    }
    return r.join("\n");
  }

  /** The subscription counts relayed, in order, as "<channel> <count>". */
  countRelays(): string {
    const r = new Array<string>();
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind == <u8>Action.Relay && a.code == -5) r.push(a.channel + " " + a.text);
    }
    return r.join(",");
  }

  /** Frames delivered in all, counting each recipient of a broadcast. */
  deliveries(): i32 {
    let n = 0;
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind == <u8>Action.Send || a.kind == <u8>Action.Broadcast) n += a.to.length;
    }
    return n;
  }

  /** The recipients (sorted, comma-separated) of every frame whose text is `text`. */
  recipientsOf(text: string): string {
    const ids = new Array<u32>();
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if ((a.kind == <u8>Action.Send || a.kind == <u8>Action.Broadcast) && a.text == text) {
        for (let k = 0; k < a.to.length; k++) ids.push(a.to[k]);
      }
    }
    return sortedIds(ids);
  }

  private onlyHttp(): Act {
    let found: Act | null = null;
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind != <u8>Action.HttpResponse) continue;
      check(found == null, "more than one HTTP response");
      found = a;
    }
    check(found != null, "no HTTP response");
    return found!;
  }

  /** Status of the one HTTP response in the batch. */
  status(): i32 {
    return this.onlyHttp().code;
  }

  /** Body of the one HTTP response in the batch. */
  body(): string {
    return this.onlyHttp().text;
  }

  /** Id of the request the one HTTP response answers. */
  httpId(): u32 {
    return this.onlyHttp().id;
  }

  /** Codes of every PUBLISH_RESULT, comma-separated. */
  publishCodes(): string {
    const r = new Array<string>();
    for (let i = 0; i < this.list.length; i++) {
      const a = this.list[i];
      if (a.kind == <u8>Action.PublishResult) r.push(a.code.toString());
    }
    return r.join(",");
  }
}

// ---------------------------------------------------------------------------
// Apps, connections and requests

let nextAppIndex: u32 = 0;
let nextConnId: u32 = 1;
let nextReqId: u32 = 1;

export function newConnId(): u32 {
  return nextConnId++;
}

export function newReqId(): u32 {
  return nextReqId++;
}

/** Extracts the socket id from a `pusher:connection_established` frame. */
export function socketIdOf(handshake: string): string {
  const marker = "\\\"socket_id\\\":\\\"";
  const at = handshake.indexOf(marker);
  if (at < 0) return "";
  const start = at + marker.length;
  const end = handshake.indexOf("\\\"", start);
  return end < 0 ? "" : handshake.substring(start, end);
}

/** Whether `s` is `\d+\.\d+`. */
export function isSocketIdShape(s: string): bool {
  let dots = 0;
  let digits = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c == 0x2e) {
      if (digits == 0) return false;
      dots++;
      digits = 0;
    } else if (c >= 0x30 && c <= 0x39) {
      digits++;
    } else {
      return false;
    }
  }
  return dots == 1 && digits > 0;
}

/** A freshly configured app with its own index, id, key and secret. */
export class TestApp {
  index: u32 = 0;
  id: string = "";
  key: string = "";
  secret: string = "";
  /** Actions answering the APP event (expected: none). */
  configured: Actions = new Actions();

  constructor(options: Array<u32>, origins: Array<string> = []) {
    const index = nextAppIndex++;
    const n = index.toString();
    this.index = index;
    this.id = "10" + n;
    this.key = "key-" + n + "-278d425bdf";
    this.secret = "secret-" + n + "-7ad3773142";
    this.configured = batch().app(this.index, this.id, this.key, this.secret, options, origins).run();
  }

  /** `key:hex(hmac_sha256(secret, toSign))` */
  auth(toSign: string): string {
    return this.key + ":" + hmacHex(this.secret, toSign);
  }

  /** Opens a connection on this app's key. */
  connect(): Conn {
    return new Conn(this, newConnId());
  }

  /**
   * The signed query for a request: `params` are extra `k=v` pairs joined by
   * `&` (values plain: they are signed and sent as they are).
   */
  signedQuery(method: string, path: string, params: string, body: string, timestamp: i64): string {
    const pairs = new Array<string>();
    pairs.push("auth_key=" + this.key);
    pairs.push("auth_timestamp=" + timestamp.toString());
    pairs.push("auth_version=1.0");
    if (body.length > 0) pairs.push("body_md5=" + md5Hex(body));
    if (params.length > 0) {
      const extra = params.split("&");
      for (let i = 0; i < extra.length; i++) pairs.push(extra[i]);
    }
    pairs.sort();
    const query = pairs.join("&");
    const sig = hmacHex(this.secret, method + "\n" + path + "\n" + query);
    return query + "&auth_signature=" + sig;
  }

  /** A correctly signed request to `/apps/{id}{route}`. */
  request(method: string, route: string, params: string, body: string): Actions {
    const path = "/apps/" + this.id + route;
    return batch().http(newReqId(), method, path, this.signedQuery(method, path, params, body, nowSeconds()), body).run();
  }

  post(route: string, body: string): Actions {
    return this.request("POST", route, "", body);
  }

  get(route: string, params: string): Actions {
    return this.request("GET", route, params, "");
  }

  /** A native publish record for this app. */
  publish(channelsJson: string, event: string, data: string, socketId: string): Actions {
    return batch().publish(this.id, channelsJson, event, data, socketId).run();
  }
}

/** Configures a new app; `options` are flat (option, value) pairs, `origins` its allowed origin patterns. */
export function newApp(options: Array<u32> = [], origins: Array<string> = []): TestApp {
  return new TestApp(options, origins);
}

export function subscribeMessage(channel: string, auth: string, channelData: string | null): string {
  let s = "{\"event\":\"pusher:subscribe\",\"data\":{\"auth\":" + q(auth) + ",\"channel\":" + q(channel);
  if (channelData != null) s += ",\"channel_data\":" + q(channelData);
  return s + "}}";
}

export class Conn {
  id: u32 = 0;
  socketId: string = "";
  /** What the connection received on OPEN. */
  opened: Actions = new Actions();

  constructor(public app: TestApp, id: u32) {
    this.id = id;
    this.opened = batch().open(id, app.key).run();
    this.socketId = socketIdOf(this.opened.log(id));
  }

  /** One text message in its own batch. */
  send(text: string): Actions {
    return batch().message(this.id, text).run();
  }

  subscribe(channel: string): Actions {
    return this.send(subscribeMessage(channel, "", null));
  }

  /** Subscribes with a valid `socket_id:channel` signature. */
  subscribeSigned(channel: string): Actions {
    return this.send(subscribeMessage(channel, this.app.auth(this.socketId + ":" + channel), null));
  }

  /** Subscribes to a presence channel with a valid signature over `channel_data`. */
  subscribePresence(channel: string, channelData: string): Actions {
    const auth = this.app.auth(this.socketId + ":" + channel + ":" + channelData);
    return this.send(subscribeMessage(channel, auth, channelData));
  }

  unsubscribe(channel: string): Actions {
    return this.send("{\"event\":\"pusher:unsubscribe\",\"data\":{\"channel\":" + q(channel) + "}}");
  }

  /** `pusher:signin` with a valid signature over `user_data`. */
  signin(userData: string): Actions {
    const auth = this.app.auth(this.socketId + "::user::" + userData);
    return this.send("{\"event\":\"pusher:signin\",\"data\":{\"auth\":" + q(auth) + ",\"user_data\":" + q(userData) + "}}");
  }

  /** A client event whose `data` is the JSON text `dataJson`. */
  trigger(channel: string, event: string, dataJson: string): Actions {
    return this.send("{\"event\":" + q(event) + ",\"channel\":" + q(channel) + ",\"data\":" + dataJson + "}");
  }

  ping(): Actions {
    return this.send("{\"event\":\"pusher:ping\",\"data\":{}}");
  }

  /** The socket is gone (CLOSED). */
  close(): Actions {
    return batch().closed(this.id).run();
  }
}

export const PONG = "{\"event\":\"pusher:pong\",\"data\":\"{}\"}";
export const PING = "{\"event\":\"pusher:ping\",\"data\":\"{}\"}";

/** Expects `actual` to be one of `options` (for output whose order is unspecified). */
export function expectOneOf(actual: string, options: Array<string>): void {
  for (let i = 0; i < options.length; i++) if (actual == options[i]) return;
  expect(actual).toBe(options[0], "none of the accepted forms matched");
}

