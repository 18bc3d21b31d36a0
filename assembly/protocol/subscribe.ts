// pusher:subscribe and pusher:unsubscribe: authorisation, presence members,
// cache channels and subscription counts.

import { bytesEqual, copyBytes } from "../channels/bytemap";
import { Channel, ChannelType, Member, Subscription } from "../channels/channel";
import { ByteBuffer } from "../frame/buffer";
import { authRequest, broadcast, send, text } from "../frame/output";
import { DecodedString } from "../json/decoded";
import { JsonType, ObjectScanner, unescapeString } from "../json/scanner";
import { isValidUtf8 } from "../json/utf8";
import { writeString, writeStringContent } from "../json/writer";
import { App } from "./app";
import { signBegin, signBytes, signColon, signMatches } from "./auth";
import { since } from "./clock";
import { relayCount, relayMember } from "./cluster";
import { Connection } from "./connection";
import { channelType, isCacheChannel, isValidChannelName, USER_CHANNEL_PREFIX } from "./names";
import { fields } from "./record";
import { sendSubscriptionError } from "./reply";

const data = new ObjectScanner();
const channelData = new ObjectScanner();
/** The unescaped `channel_data` string, signed and then parsed. */
const channelDataText = new ByteBuffer(1024);
/** The channel name and auth signature, decoded (RFC 8259 §7). */
const channelName = new DecodedString();
const authText = new DecodedString();
/** Inner JSON of a double-encoded `data` field. */
const inner = new ByteBuffer(1024);

// @ts-ignore: decorator
@inline const COUNT_THROTTLE_ABOVE: u32 = 100;
// @ts-ignore: decorator
@inline const COUNT_THROTTLE_MS: u64 = 5000;

/** Handles `pusher:subscribe` whose `data` member spans `ptr..ptr+len`. */
export function subscribe(conn: Connection, ptr: usize, len: usize, now: u64): void {
  const app = conn.app;
  if (!data.scan(ptr, len)) {
    sendSubscriptionError(conn.id, 0, 0, "InvalidMessage", "Subscribe data must be an object with a channel", 400);
    return;
  }
  const c = data.find("channel");
  if (c < 0 || data.type(c) != JsonType.String) {
    sendSubscriptionError(conn.id, 0, 0, "InvalidMessage", "Subscribe data must be an object with a channel", 400);
    return;
  }
  // The decoded name is validated, and echoed in errors encoded exactly once.
  channelName.set(data.valueStart(c), data.valueLen(c), data.valueEscaped(c));
  const name = channelName.ptr;
  const nameLen = channelName.len;
  if (!isValidChannelName(name, nameLen)) {
    sendSubscriptionError(conn.id, name, nameLen, "InvalidChannel",
      "Channel names are 1 to 200 characters of [-a-zA-Z0-9_=@,.;]", 400);
    return;
  }
  join(conn, name, nameLen, now, true);
}

/**
 * Handles `AUTH_RESULT`: the host's auth workers answered for a subscribe
 * that came without `auth`. The record is `u16 len, channel`, `u16 status`,
 * then, with status 200, the auth endpoint's JSON body
 * (`{"auth":...,"channel_data":...}`), whose signature is checked as if the
 * client sent it. Any other status refuses the subscribe with that status.
 */
export function authorized(conn: Connection, ptr: usize, len: usize, now: u64): void {
  const f = fields.begin(ptr, len);
  if (!f.str16()) return;
  const name = f.start, nameLen = f.len;
  if (!isValidChannelName(name, nameLen) || !f.bytes(2)) return;
  let status = load<u16>(f.start);
  f.rest();
  // The body goes out in frames (channel_data's user_info): JSON and UTF-8, or refused.
  if (status == 200 && (!data.scan(f.start, f.len) || !isValidUtf8(f.start, f.len))) status = 502;
  if (status != 200) {
    sendSubscriptionError(conn.id, name, nameLen, "AuthError", authRefusal(status), status);
    return;
  }
  join(conn, name, nameLen, now, false);
}

/** Why the auth workers refused, by the status they answered. */
function authRefusal(status: u16): string {
  if (status == 503) return "The auth workers are busy or unavailable: try again";
  if (status == 504) return "The auth workers did not answer in time";
  if (status >= 500) return "The auth endpoint failed";
  return "The auth endpoint refused the subscription";
}

/**
 * Authorises and joins channel `name`, reading `auth` and `channel_data`
 * from the `data` scanner. Without `auth`, an app with `auth_fallback` asks
 * the host's auth workers (`AUTH_REQUEST`) when `mayAskHost`.
 */
function join(conn: Connection, name: usize, nameLen: usize, now: u64, mayAskHost: bool): void {
  const app = conn.app;
  const existing = conn.subscription(name, nameLen);
  if (existing) {
    sendSucceeded(existing.channel, conn.id);
    return;
  }
  if (app.maxSubscriptions != 0 && <u32>conn.subscriptions.length >= app.maxSubscriptions) {
    sendSubscriptionError(conn.id, name, nameLen, "LimitReached",
      "The connection is subscribed to max_subscriptions channels already", 4100);
    return;
  }
  const type = channelType(name, nameLen);

  if (type == ChannelType.User) {
    const user = conn.user;
    const prefix = <usize>USER_CHANNEL_PREFIX.length;
    if (!user || !bytesEqual(user.id, name + prefix, nameLen - prefix)) {
      sendSubscriptionError(conn.id, name, nameLen, "AuthError",
        "Only a connection signed in as this user may subscribe", 403);
      return;
    }
  } else if (type != ChannelType.Public) {
    const a = data.find("auth");
    if (data.type(a) != JsonType.String || data.valueLen(a) == 0) {
      if (mayAskHost && app.authFallback) {
        authRequest(conn.id, changetype<usize>(conn.socketId), conn.socketId.byteLength, name, nameLen);
        return;
      }
      sendSubscriptionError(conn.id, name, nameLen, "AuthError", "Missing auth signature", 401);
      return;
    }
    signBegin(app);
    signBytes(changetype<usize>(conn.socketId), conn.socketId.byteLength);
    signColon();
    signBytes(name, nameLen);
    if (type == ChannelType.Presence) {
      const d = data.find("channel_data");
      if (d < 0 || data.type(d) != JsonType.String || !unescapeInto(channelDataText, data.valueStart(d), data.valueLen(d))) {
        sendSubscriptionError(conn.id, name, nameLen, "AuthError", "Presence channels need channel_data", 401);
        return;
      }
      signColon();
      signBytes(channelDataText.ptr, channelDataText.len);
    }
    authText.set(data.valueStart(a), data.valueLen(a), data.valueEscaped(a));
    if (!signMatches(app, authText.ptr, authText.len)) {
      sendSubscriptionError(conn.id, name, nameLen, "AuthError", "Invalid signature", 401);
      return;
    }
  }

  let member: Member | null = null;
  let channel = app.channels.get(name, nameLen);
  if (type == ChannelType.Presence) {
    member = presenceMember(conn, channel, name, nameLen);
    if (!member) return;
  }
  if (!channel) {
    channel = new Channel(copyBytes(name, nameLen), type, isCacheChannel(name, nameLen));
    app.channels.set(name, nameLen, channel);
  }
  const sub = new Subscription(channel, conn.id);
  channel.add(sub);
  conn.addSubscription(sub);
  if (type != ChannelType.Public) conn.authorized = true;

  // joined: the user was present on no node, so the channel hears of it.
  let joined = false;
  if (member) {
    const members = changetype<Channel>(channel).members!;
    const known = members.get(changetype<usize>(member.key), member.key.byteLength);
    if (known) {
      member = known;
    } else {
      members.set(changetype<usize>(member.key), member.key.byteLength, member);
      joined = true;
    }
    if (member.connections++ == 0 && app.relay) relayMember(app, channel, member, true);
    sub.member = member;
  }

  sendSucceeded(channel, conn.id);
  if (joined) memberEvent(channel, member!, true, conn.id);
  if (channel.cache) sendCached(channel, conn.id, app.cacheTtl, now);
  if (app.relay && type != ChannelType.User) relayCount(app, channel);
  subscriptionCountChanged(app, channel, now);
}

/** Handles `pusher:unsubscribe`; unknown channels are ignored, as Pusher does. */
export function unsubscribe(conn: Connection, ptr: usize, len: usize, now: u64): void {
  if (!data.scan(ptr, len)) return;
  const c = data.find("channel");
  if (c < 0 || data.type(c) != JsonType.String) return;
  channelName.set(data.valueStart(c), data.valueLen(c), data.valueEscaped(c));
  const sub = conn.subscription(channelName.ptr, channelName.len);
  if (sub) leave(conn, sub, now);
}

/** Removes one subscription: members, empty channels, counts. */
export function leave(conn: Connection, sub: Subscription, now: u64): void {
  const channel = sub.channel;
  const app = conn.app;
  channel.remove(sub);
  conn.removeSubscription(sub);
  const member = sub.member;
  if (member && --member.connections == 0) {
    if (app.relay) relayMember(app, channel, member, false);
    // Still present on another node: nobody left, as far as clients can tell.
    if (!member.remote) {
      channel.members!.delete(changetype<usize>(member.key), member.key.byteLength);
      memberEvent(channel, member, false, 0);
    }
  }
  if (app.relay && channel.type != ChannelType.User) relayCount(app, channel);
  if (channel.subscriptionCount == 0) {
    dropIfVacant(app, channel);
    return;
  }
  subscriptionCountChanged(app, channel, now);
}

/**
 * Forgets a channel with no subscriber, no member on any node and no cached
 * event; returns whether it did.
 */
export function dropIfVacant(app: App, channel: Channel): bool {
  if (channel.clusterCount != 0 || channel.userCount != 0 || (channel.cache && channel.cached != null)) return false;
  app.channels.delete(changetype<usize>(channel.name), channel.name.byteLength);
  channel.subscribers.free();
  return true;
}

function unescapeInto(buf: ByteBuffer, ptr: usize, len: usize): bool {
  buf.reset();
  const n = unescapeString(ptr, len, buf.ensure(<u32>len));
  if (n < 0) return false;
  buf.len = <u32>n;
  return true;
}

/**
 * Parses the signed `channel_data` into a member, checking the presence
 * limits; sends the subscription error and returns null when it is refused.
 */
function presenceMember(conn: Connection, channel: Channel | null, name: usize, nameLen: usize): Member | null {
  const app = conn.app;
  const cd = channelData;
  if (!cd.scan(channelDataText.ptr, channelDataText.len)) {
    sendSubscriptionError(conn.id, name, nameLen, "InvalidChannelData", "channel_data must be a JSON object", 400);
    return null;
  }
  const u = cd.find("user_id");
  const t = u < 0 ? JsonType.None : cd.type(u);
  if ((t != JsonType.String && t != JsonType.Number) || cd.valueLen(u) == 0) {
    sendSubscriptionError(conn.id, name, nameLen, "InvalidChannelData", "channel_data needs a user_id", 400);
    return null;
  }
  const idStart = cd.valueStart(u);
  const idLen = cd.valueLen(u);
  if (idLen > 128) {
    sendSubscriptionError(conn.id, name, nameLen, "LimitReached", "user_id is longer than 128 characters", 400);
    return null;
  }
  const i = cd.find("user_info");
  let info = new ArrayBuffer(0);
  if (i >= 0) {
    if (<u32>cd.rawLen(i) > app.maxPresenceUserInfo) {
      sendSubscriptionError(conn.id, name, nameLen, "LimitReached", "user_info is larger than the limit", 400);
      return null;
    }
    info = copyBytes(cd.rawStart(i), cd.rawLen(i));
  }
  if (channel) {
    const members = channel.members!;
    if (<u32>members.size >= app.maxPresenceMembers && !members.get(idStart, idLen)) {
      sendSubscriptionError(conn.id, name, nameLen, "LimitReached", "The presence channel is full", 4100);
      return null;
    }
  }
  // The raw JSON keeps a string id quoted and a number a number.
  return new Member(copyBytes(idStart, idLen), copyBytes(cd.rawStart(u), cd.rawLen(u)), info);
}

/** `pusher_internal:subscription_succeeded`, with the roster on presence channels. */
function sendSucceeded(channel: Channel, conn: u32): void {
  beginChannelEvent("pusher_internal:subscription_succeeded", channel);
  const members = channel.members;
  if (members) {
    inner.reset();
    inner.ascii('{"presence":{"ids":[');
    let first = true;
    for (let i = 0, n = members.capacity; i < n; i++) {
      const m = members.valueAt(i);
      if (!m) continue;
      if (!first) inner.byte(0x2c);
      first = false;
      inner.bytes(changetype<usize>(m.idJson), m.idJson.byteLength);
    }
    inner.ascii('],"hash":{');
    first = true;
    for (let i = 0, n = members.capacity; i < n; i++) {
      const m = members.valueAt(i);
      if (!m) continue;
      if (!first) inner.byte(0x2c);
      first = false;
      inner.byte(0x22);
      inner.bytes(changetype<usize>(m.key), m.key.byteLength);
      inner.ascii('":');
      writeInfo(m);
    }
    inner.ascii('},"count":');
    inner.decimal(members.size);
    inner.ascii("}}");
    endChannelEvent();
  } else {
    text.ascii('"{}"}');
  }
  send(conn);
}

function writeInfo(m: Member): void {
  if (m.info.byteLength == 0) inner.ascii("null");
  else inner.bytes(changetype<usize>(m.info), m.info.byteLength);
}

/** `pusher_internal:member_added` / `member_removed` to the other subscribers. */
export function memberEvent(channel: Channel, m: Member, added: bool, exclude: u32): void {
  beginChannelEvent(added ? "pusher_internal:member_added" : "pusher_internal:member_removed", channel);
  inner.reset();
  inner.ascii('{"user_id":');
  inner.bytes(changetype<usize>(m.idJson), m.idJson.byteLength);
  if (added) {
    inner.ascii(',"user_info":');
    writeInfo(m);
  }
  inner.byte(0x7d);
  endChannelEvent();
  broadcast(channel.subscribers.ptr, channel.subscriptionCount, exclude);
}

/** Writes `{"event":"<event>","channel":"<name>","data":` into `text`. */
function beginChannelEvent(event: string, channel: Channel): void {
  text.reset();
  text.ascii('{"event":"');
  text.ascii(event);
  text.ascii('","channel":');
  writeString(text, changetype<usize>(channel.name), channel.name.byteLength);
  text.ascii(',"data":');
}

/** Closes an event whose data is the JSON in `inner`, encoded as a string. */
function endChannelEvent(): void {
  text.byte(0x22);
  writeStringContent(text, inner.ptr, inner.len);
  text.ascii('"}');
}

/** Sends a cache channel's last event, or `pusher:cache_miss`. */
function sendCached(channel: Channel, conn: u32, ttl: u32, now: u64): void {
  const cached = channel.cached;
  text.reset();
  if (cached && since(now, channel.cachedAt) < <u64>ttl) {
    text.bytes(changetype<usize>(cached), cached.byteLength);
  } else {
    channel.cached = null;
    text.ascii('{"event":"pusher:cache_miss","channel":');
    writeString(text, changetype<usize>(channel.name), channel.name.byteLength);
    text.byte(0x7d);
  }
  send(conn);
}

/**
 * `pusher_internal:subscription_count` after a change, when the app asks for
 * it; never on presence channels, and at most every 5 s above 100 subscribers.
 */
/** The channel's subscription count changed, here or on another node. */
export function subscriptionCountChanged(app: App, channel: Channel, now: u64): void {
  if (!app.subscriptionCount || channel.type == ChannelType.Presence || channel.type == ChannelType.User) return;
  if (channel.clusterCount > COUNT_THROTTLE_ABOVE && since(now, channel.countSentAt) < COUNT_THROTTLE_MS) {
    channel.countPending = true;
    return;
  }
  sendSubscriptionCount(channel, now);
}

/** Sends a throttled subscription count once its 5 s have passed. */
export function flushSubscriptionCount(channel: Channel, now: u64): void {
  if (channel.countPending && since(now, channel.countSentAt) >= COUNT_THROTTLE_MS) sendSubscriptionCount(channel, now);
}

function sendSubscriptionCount(channel: Channel, now: u64): void {
  channel.countPending = false;
  channel.countSentAt = now;
  beginChannelEvent("pusher_internal:subscription_count", channel);
  text.ascii('"{\\"subscription_count\\":');
  text.decimal(channel.clusterCount);
  text.ascii('}"}');
  broadcast(channel.subscribers.ptr, channel.subscriptionCount, 0);
}
