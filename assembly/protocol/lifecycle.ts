// Connection lifecycle: open, close, liveness and shutdown.

import { bytesEqual } from "../channels/bytemap";
import { close, send, text } from "../frame/output";
import { DecodedString } from "../json/decoded";
import { since } from "./clock";
import { App, appByKey, apps } from "./app";
import { dropIfVacant, flushSubscriptionCount } from "./channel_events";
import { CloseCode } from "./codes";
import { Connection, connectionById, connections, dropConnection, putConnection, trimConnections } from "./connection";
import { spanStartsWith } from "./names";
import { originAllowed } from "./origins";
import { fields } from "./record";
import { sendError, sendPing } from "./reply";
import { signOut } from "./signin";
import { leave } from "./subscribe";
import { flushHookCount } from "./webhooks";

/**
 * A socket was upgraded on `/app/{key}`: the record is `u16 len, key`,
 * `u16 len, Origin header` (possibly empty), then the raw query string.
 */
export function open(id: u32, ptr: usize, len: usize, now: u64): void {
  const f = fields.begin(ptr, len);
  const app = f.str16() ? appByKey(f.start, f.len) : null;
  if (!app) return refuse(id, CloseCode.AppNotFound, "Application does not exist");
  if (!f.str16()) return refuse(id, CloseCode.AppNotFound, "Application does not exist");
  const origin = f.start, originLen = f.len;
  f.rest();
  const version = protocolVersion(f.start, f.len);
  if (version == PROTOCOL_MISSING) return refuse(id, CloseCode.NoProtocolVersion, "No protocol version supplied");
  if (version != PROTOCOL_VERSION) return refuse(id, CloseCode.UnsupportedProtocol, "Unsupported protocol version");
  if (!originAllowed(app.origins, origin, originLen)) return refuse(id, CloseCode.Unauthorized, "Origin not allowed");
  if (app.maxConnections != 0 && <u32>app.connections >= app.maxConnections) {
    return refuse(id, CloseCode.OverQuota, "Application is over connection quota");
  }
  const conn = new Connection(id, app, now);
  putConnection(conn);
  text.reset();
  text.ascii('{"event":"pusher:connection_established","data":"{\\"socket_id\\":');
  text.ascii('\\"');
  text.bytes(changetype<usize>(conn.socketId), conn.socketId.byteLength);
  text.ascii('\\",\\"activity_timeout\\":');
  text.decimal(app.handshakeActivityTimeout);
  text.ascii('}"}');
  send(id);
}

/** The Pusher protocol version spoken here (`?protocol=7`, what pusher-js sends). */
// @ts-ignore: decorator
@inline const PROTOCOL_VERSION: i32 = 7;
// @ts-ignore: decorator
@inline const PROTOCOL_MISSING: i32 = -1;
// @ts-ignore: decorator
@inline const PROTOCOL_INVALID: i32 = -2;

/**
 * The `protocol` parameter of a raw query string: its value as a decimal
 * version, PROTOCOL_MISSING without one, PROTOCOL_INVALID if it is not a
 * number of at most 4 digits. The first `protocol` wins.
 */
function protocolVersion(ptr: usize, len: usize): i32 {
  let start: usize = 0;
  while (start < len) {
    let end = start;
    while (end < len && load<u8>(ptr + end) != 0x26) end++;
    if (spanStartsWith(ptr + start, end - start, "protocol=")) {
      const digits = end - start - 9;
      if (digits == 0 || digits > 4) return PROTOCOL_INVALID;
      let v: i32 = 0;
      for (let p = ptr + start + 9, e = ptr + end; p < e; p++) {
        const d = <u32>load<u8>(p) - 0x30;
        if (d > 9) return PROTOCOL_INVALID;
        v = v * 10 + <i32>d;
      }
      return v;
    }
    start = end + 1;
  }
  return PROTOCOL_MISSING;
}

/** Refuses a new connection: `pusher:error`, then close, with `code`. */
function refuse(id: u32, code: u16, message: string): void {
  sendError(id, code, message);
  close(id, code, message);
}

/** The socket is gone: leave every channel, sign out. */
export function closed(id: u32, now: u64): void {
  const conn = connectionById(id);
  if (conn) forget(conn, now);
}

/**
 * Sends an error, closes the socket (with `message`, or a shorter `reason`)
 * and forgets the connection at once.
 */
export function terminate(conn: Connection, code: u16, message: string, now: u64, reason: string = message): void {
  sendError(conn.id, code, message);
  close(conn.id, code, reason);
  forget(conn, now);
}

function forget(conn: Connection, now: u64): void {
  const subs = conn.subscriptions;
  while (subs.length > 0) leave(conn, unchecked(subs[subs.length - 1]), now);
  signOut(conn);
  dropConnection(conn);
}

/** A WebSocket ping or pong frame, or any other frame: proof of life. */
export function activity(id: u32, now: u64): void {
  const conn = connectionById(id);
  if (conn) conn.touch(now);
}

/**
 * Once a second: ping idle connections, close the ones that never answered
 * (4201), close connections that stayed unauthorised too long (4009), send
 * subscription counts that were held back, drop stale vacant cache channels,
 * and shrink the tables a peak left mostly empty.
 */
export function tick(now: u64): void {
  for (let i = 0, n = connections.length; i < n; i++) {
    const conn = unchecked(connections[i]);
    if (!conn) continue;
    const app = conn.app;
    const idle = since(now, conn.lastActivity);
    if (idle >= <u64>app.pongWait) {
      terminate(conn, CloseCode.PongTimeout, "Pong reply not received in time", now);
    } else if (idle >= <u64>app.pingPeriod && !conn.pinged) {
      conn.pinged = true;
      sendPing(conn.id);
    } else if (app.userAuthTimeout != 0 && !conn.authorized && since(now, conn.openedAt) >= <u64>app.userAuthTimeout) {
      terminate(conn, CloseCode.Unauthorized, "Connection not authorized within timeout", now);
    }
  }
  for (let a = 0, n = apps.length; a < n; a++) {
    const app = unchecked(apps[a]);
    const channels = app.channels;
    for (let i = 0, c = channels.capacity; i < c; i++) {
      const channel = channels.valueAt(i);
      if (!channel) continue;
      if (channel.countPending) flushSubscriptionCount(channel, now);
      if (channel.hookCountPending) flushHookCount(app, channel, now);
      // A vacant cache channel is kept only while its event is fresh.
      if (channel.subscriptionCount == 0 && channel.cached != null && since(now, channel.cachedAt) >= <u64>app.cacheTtl) {
        channel.cached = null;
        dropIfVacant(app, channel);
      }
      const members = channel.members;
      if (members) members.compact();
    }
    // After the loops over them: tables emptied since the last tick shrink.
    channels.compact();
    app.users.compact();
    app.watchers.compact();
  }
  trimConnections();
}

/** The server is stopping: 4200 tells pusher-js to reconnect at once. */
export function shutdown(now: u64): void {
  for (let i = 0, n = connections.length; i < n; i++) {
    const conn = unchecked(connections[i]);
    if (conn) {
      close(conn.id, CloseCode.ShuttingDown, "Server is shutting down");
      forget(conn, now);
    }
  }
}

/**
 * Closes, with 4009, the connections of app `app` signed in as user `id`
 * (Pusher) or present as that user on a presence channel (Reverb).
 */
export function terminateUser(app: App, id: usize, idLen: usize, now: u64): void {
  for (let i = 0, n = connections.length; i < n; i++) {
    const conn = unchecked(connections[i]);
    if (!conn || conn.app != app) continue;
    if (belongsTo(conn, id, idLen)) terminate(conn, CloseCode.Unauthorized, "Connection terminated by the server", now);
  }
}

function belongsTo(conn: Connection, id: usize, idLen: usize): bool {
  const user = conn.user;
  if (user && idEquals(user.id, id, idLen)) return true;
  const subs = conn.subscriptions;
  for (let i = 0, n = subs.length; i < n; i++) {
    const m = unchecked(subs[i]).member;
    if (m && idEquals(m.key, id, idLen)) return true;
  }
  return false;
}

const storedId = new DecodedString(64);

/**
 * Whether a stored user id (a JSON string's raw content, or a number's text)
 * is the plain id `id`: PHP's json_encode writes "José" as "Jos\u00e9" and
 * "a/b" as "a\/b", while a terminate request names the user decoded.
 */
function idEquals(stored: ArrayBuffer, id: usize, idLen: usize): bool {
  const ptr = changetype<usize>(stored);
  const len = <usize>stored.byteLength;
  if (bytesEqual(stored, id, idLen)) return true;
  let escaped = false;
  for (let i: usize = 0; i < len && !escaped; i++) escaped = load<u8>(ptr + i) == 0x5c;
  if (!escaped || !storedId.set(ptr, len, true)) return false;
  return storedId.len == idLen && memory.compare(storedId.ptr, id, idLen) == 0;
}
