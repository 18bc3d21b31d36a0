// Applications: credentials, limits and the state each one owns. Apps never
// see each other's channels or users.

import { Default, Option } from "../abi";
import { ByteMap, bytesEqual, copyBytes } from "../channels/bytemap";
import { Channel, ConnIds } from "../channels/channel";
import { Digest } from "../channels/digest";
import { HmacKey } from "../crypto/hmac";
import { fields } from "./record";

/** A user signed in on other nodes, and their numbers. */
export class RemoteUser {
  nodes: Array<u32> = [];
  /** The number of the last repair that listed the user (protocol/entropy.ts). */
  mark: u32 = 0;
  constructor(public id: ArrayBuffer) {}
}

/** A signed-in user and the connections signed in as that user. */
export class User {
  connections: ConnIds = new ConnIds();
  constructor(public id: ArrayBuffer) {}
}

export class App {
  id: ArrayBuffer;
  key: ArrayBuffer;
  secret: ArrayBuffer;
  /** HMAC-SHA256 keyed by the secret, midstates computed once. */
  hmac: HmacKey;

  // The options (abi.ts `Option`), at the ABI's defaults until setOption.
  activityTimeout: u32 = Default.ActivityTimeout; // seconds; 0: derived from pingPeriod
  maxMessageSize: u32 = Default.MaxMessageSize;
  maxEventPayload: u32 = Default.MaxEventPayload;
  maxPresenceMembers: u32 = Default.MaxPresenceMembers;
  maxPresenceUserInfo: u32 = Default.MaxPresenceUserInfo;
  clientEvents: bool = Default.ClientEvents != 0;
  clientEventRate: u32 = Default.ClientEventRate;
  subscriptionCount: bool = Default.SubscriptionCount != 0;
  userAuthTimeout: u32 = Default.UserAuthTimeout;
  cacheTtl: u32 = Default.CacheTtl;
  pingPeriod: u32 = Default.PingPeriod;
  pongWait: u32 = Default.PongWait;
  authFallback: bool = Default.AuthFallback != 0;
  relay: bool = Default.Relay != 0;
  maxConnections: u32 = Default.MaxConnections;
  webhooks: u32 = Default.Webhooks;
  maxSubscriptions: u32 = Default.MaxSubscriptions;
  /** Origin host patterns (`*` wildcards) a connection must match; empty: any origin. */
  origins: Array<ArrayBuffer> = [];

  channels: ByteMap<Channel> = new ByteMap<Channel>();
  users: ByteMap<User> = new ByteMap<User>();
  /** Users signed in on other nodes (relayed), for the watchlists here. */
  remoteUsers: ByteMap<RemoteUser> = new ByteMap<RemoteUser>();
  /** Watched user id → ids of the connections whose watchlist names it. */
  watchers: ByteMap<Array<u32>> = new ByteMap<Array<u32>>();
  connections: i32 = 0;
  /** This node's share of the cluster state, as it relayed it (channels/digest.ts). */
  digest: Digest = new Digest();
  /** Each other node's share, by node number, as it is held here from its relay records. */
  peers: Map<u32, Digest> = new Map<u32, Digest>();

  constructor(id: ArrayBuffer, key: ArrayBuffer, secret: ArrayBuffer) {
    this.id = id;
    this.key = key;
    this.secret = secret;
    this.hmac = new HmacKey(changetype<usize>(secret), <usize>secret.byteLength);
  }

  /** Seconds announced in `pusher:connection_established`. */
  get handshakeActivityTimeout(): u32 {
    if (this.activityTimeout != 0) return this.activityTimeout;
    const s = this.pingPeriod / 1000;
    return s > 0 ? s : 1;
  }

  setOption(option: u16, value: u32): void {
    switch (option) {
      case Option.ActivityTimeout: this.activityTimeout = value; break;
      case Option.MaxMessageSize: this.maxMessageSize = value; break;
      case Option.MaxEventPayload: this.maxEventPayload = value; break;
      case Option.MaxPresenceMembers: this.maxPresenceMembers = value; break;
      case Option.MaxPresenceUserInfo: this.maxPresenceUserInfo = value; break;
      case Option.ClientEvents: this.clientEvents = value != 0; break;
      case Option.ClientEventRate: this.clientEventRate = value; break;
      case Option.SubscriptionCount: this.subscriptionCount = value != 0; break;
      case Option.UserAuthTimeout: this.userAuthTimeout = value; break;
      case Option.CacheTtl: this.cacheTtl = value; break;
      case Option.PingPeriod: this.pingPeriod = value; break;
      case Option.PongWait: this.pongWait = value; break;
      case Option.AuthFallback: this.authFallback = value != 0; break;
      case Option.Relay: this.relay = value != 0; break;
      case Option.MaxConnections: this.maxConnections = value; break;
      case Option.Webhooks: this.webhooks = value; break;
      case Option.MaxSubscriptions: this.maxSubscriptions = value; break;
    }
  }
}

/** Every configured app, by index. */
export const apps: Array<App> = [];

/**
 * Reads an app record (see assembly/README.md) and installs it at `index`,
 * replacing any app there. Returns false for a malformed record.
 */
export function configureApp(index: u32, ptr: usize, len: usize): bool {
  const f = fields.begin(ptr, len);
  if (!f.str16()) return false;
  const id = f.start, idLen = f.len;
  if (!f.str16()) return false;
  const key = f.start, keyLen = f.len;
  if (!f.str16()) return false;
  const secret = f.start, secretLen = f.len;
  if (!f.bytes(2)) return false;
  const count = <usize>load<u16>(f.start);
  if (!f.bytes(count * 6)) return false;
  let p = f.start;
  const app = new App(copyBytes(id, idLen), copyBytes(key, keyLen), copyBytes(secret, secretLen));
  for (let i: usize = 0; i < count; i++) {
    app.setOption(load<u16>(p), load<u32>(p, 2));
    p += 6;
  }
  // Allowed origins, optional: `u16 count`, then count × `u16 len, pattern`.
  if (f.bytes(2)) {
    const origins = <usize>load<u16>(f.start);
    for (let i: usize = 0; i < origins; i++) {
      if (!f.str16()) return false;
      app.origins.push(copyBytes(f.start, f.len));
    }
  }
  while (<u32>apps.length <= index) apps.push(app);
  apps[index] = app;
  return true;
}

export function appByKey(ptr: usize, len: usize): App | null {
  for (let i = 0, n = apps.length; i < n; i++) {
    const app = unchecked(apps[i]);
    if (bytesEqual(app.key, ptr, len)) return app;
  }
  return null;
}

export function appById(ptr: usize, len: usize): App | null {
  for (let i = 0, n = apps.length; i < n; i++) {
    const app = unchecked(apps[i]);
    if (bytesEqual(app.id, ptr, len)) return app;
  }
  return null;
}
