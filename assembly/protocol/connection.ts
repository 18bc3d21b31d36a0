// Connections, indexed by the host's connection id, and their socket ids.

import { ByteMap, bytesEqual } from "../channels/bytemap";
import { Subscription } from "../channels/channel";
import { ByteBuffer } from "../frame/buffer";
import { App, User } from "./app";
import { since } from "./clock";

/**
 * Up to this many subscriptions a connection finds a channel by scanning
 * them; beyond, by a map, so that lookups stay O(1) up to max_subscriptions.
 */
// @ts-ignore: decorator
@inline const SCAN_LIMIT: i32 = 8;

export class Connection {
  /** `<random>.<connection id>`: unique here, and maps back to the id in O(1). */
  socketId: ArrayBuffer;
  /** In any order; each knows its index (`connIndex`). */
  subscriptions: Array<Subscription> = [];
  /** The subscriptions by channel name, once there are more than SCAN_LIMIT. */
  private byName: ByteMap<Subscription> | null = null;
  lastActivity: u64;
  openedAt: u64;
  pinged: bool = false;
  /** Signed in (`pusher:signin`) or subscribed to a private or presence channel. */
  authorized: bool = false;
  user: User | null = null;
  /** Position of this connection in `user.connections`. */
  userIndex: u32 = 0;
  watchlist: Array<ArrayBuffer> | null = null;
  /** Client-event token bucket. */
  tokens: f64;
  tokensAt: u64;

  constructor(public id: u32, public app: App, now: u64) {
    this.socketId = newSocketId(id);
    this.lastActivity = now;
    this.openedAt = now;
    this.tokens = <f64>app.clientEventRate;
    this.tokensAt = now;
  }

  /** Records a sign of life: any frame from the client. */
  @inline touch(now: u64): void {
    this.lastActivity = now;
    this.pinged = false;
  }

  /** Finds this connection's subscription to the channel named by the bytes at `ptr`. */
  subscription(ptr: usize, len: usize): Subscription | null {
    const byName = this.byName;
    if (byName) return byName.get(ptr, len);
    const subs = this.subscriptions;
    for (let i = 0, n = subs.length; i < n; i++) {
      const s = unchecked(subs[i]);
      if (bytesEqual(s.channel.name, ptr, len)) return s;
    }
    return null;
  }

  addSubscription(sub: Subscription): void {
    const subs = this.subscriptions;
    sub.connIndex = subs.length;
    subs.push(sub);
    let byName = this.byName;
    if (byName) {
      byName.put(sub.channel.name, sub);
    } else if (subs.length > SCAN_LIMIT) {
      this.byName = byName = new ByteMap<Subscription>();
      for (let i = 0, n = subs.length; i < n; i++) byName.put(unchecked(subs[i]).channel.name, unchecked(subs[i]));
    }
  }

  removeSubscription(sub: Subscription): void {
    const subs = this.subscriptions;
    const i = sub.connIndex;
    if (<u32>i >= <u32>subs.length || unchecked(subs[i]) != sub) return;
    const moved = unchecked(subs[subs.length - 1]);
    moved.connIndex = i;
    unchecked((subs[i] = moved));
    subs.pop();
    const byName = this.byName;
    if (!byName) return;
    const name = sub.channel.name;
    byName.delete(changetype<usize>(name), name.byteLength);
    if (subs.length <= SCAN_LIMIT / 2) this.byName = null;
    else byName.compact();
  }

  /** Takes one client-event token; false when the rate limit is exceeded. */
  takeToken(now: u64): bool {
    const rate = <f64>this.app.clientEventRate;
    this.tokens = min(rate, this.tokens + <f64>since(now, this.tokensAt) * rate / 1000.0);
    this.tokensAt = now;
    if (this.tokens < 1.0) return false;
    this.tokens -= 1.0;
    return true;
  }
}

/** Open connections by id; ids are dense slots chosen by the host. */
export const connections: Array<Connection | null> = [];

export function connectionById(id: u32): Connection | null {
  return id < <u32>connections.length ? unchecked(connections[id]) : null;
}

export function putConnection(conn: Connection): void {
  const id = conn.id;
  while (<u32>connections.length <= id) connections.push(null);
  connections[id] = conn;
  conn.app.connections++;
}

export function dropConnection(conn: Connection): void {
  connections[conn.id] = null;
  conn.app.connections--;
}

/** Drops trailing free slots, so that loops over `connections` shrink back after a peak. */
export function trimConnections(): void {
  while (connections.length > 0 && unchecked(connections[connections.length - 1]) == null) connections.pop();
}

/**
 * Finds the connection a socket id names (`<random>.<id>`), checking the whole
 * id so a stale socket id never matches a reused slot.
 */
export function connectionBySocketId(ptr: usize, len: usize): Connection | null {
  let dot: usize = 0;
  while (dot < len && load<u8>(ptr + dot) != 0x2e) dot++;
  if (dot + 1 >= len) return null;
  let id: u64 = 0;
  for (let i = dot + 1; i < len; i++) {
    const d = <u32>load<u8>(ptr + i) - 48;
    if (d > 9) return null;
    id = id * 10 + d;
    if (id > 0xffffffff) return null;
  }
  const conn = connectionById(<u32>id);
  return conn != null && bytesEqual(conn.socketId, ptr, len) ? conn : null;
}

// xorshift64*: socket ids need to be unpredictable enough not to collide with
// a previous connection's, not secret (they are signed together with channels).
let seed: u64 = 0x9e3779b97f4a7c15;

export function seedSocketIds(lo: u32, hi: u32): void {
  seed = ((<u64>hi << 32) | <u64>lo) | 1;
}

function nextRandom(): u64 {
  seed ^= seed >> 12;
  seed ^= seed << 25;
  seed ^= seed >> 27;
  return seed * 0x2545f4914f6cdd1d;
}

const idText = new ByteBuffer(24);

function newSocketId(id: u32): ArrayBuffer {
  idText.reset();
  idText.decimal(1 + (nextRandom() >> 1) % 999999999);
  idText.byte(0x2e);
  idText.decimal(id);
  const b = new ArrayBuffer(<i32>idText.len);
  memory.copy(changetype<usize>(b), idText.ptr, idText.len);
  return b;
}
