// pusher:subscribe and pusher:unsubscribe: authorisation, presence members,
// cache channels and subscription counts.

import { bytesEqual, copyBytes } from "../channels/bytemap";
import { Channel, ChannelType, Member, Subscription } from "../channels/channel";
import { ByteBuffer } from "../frame/buffer";
import { authRequest, send, text } from "../frame/output";
import { DecodedString } from "../json/decoded";
import { JsonType, ObjectScanner, unescapeString } from "../json/scanner";
import { isValidUtf8 } from "../json/utf8";
import { writeString } from "../json/writer";
import { signBegin, signBytes, signColon, signMatches } from "./auth";
import { dropIfVacant, memberEvent, sendSucceeded, subscriptionCountChanged } from "./channel_events";
import { since } from "./clock";
import { relayCount, relayMember } from "./cluster";
import { CloseCode } from "./codes";
import { Connection } from "./connection";
import { channelType, isCacheChannel, isValidChannelName, USER_CHANNEL_PREFIX } from "./names";
import { fields } from "./record";
import { sendSubscriptionError } from "./reply";
import { hookCacheMiss, hookMember, hookOccupancy, hookSubscriptionCount } from "./webhooks";

/**
 * The `data` of the subscribe, unsubscribe or auth answer being handled:
 * scanned by its handler, which passes it on to join().
 */
const dataScanner = new ObjectScanner();
/** The signed `channel_data`, scanned by presenceMember(). */
const channelData = new ObjectScanner();
/** The unescaped `channel_data` string: join() fills it, signs it and hands it to presenceMember(). */
const channelDataText = new ByteBuffer(1024);
/** The channel name and auth signature, decoded (RFC 8259 §7). */
const channelName = new DecodedString();
const authText = new DecodedString();

/** Handles `pusher:subscribe` whose `data` member spans `ptr..ptr+len`. */
export function subscribe(conn: Connection, ptr: usize, len: usize, now: u64): void {
  const data = dataScanner;
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
  join(conn, data, name, nameLen, now, true);
}

/**
 * Handles `AUTH_RESULT`: the host's auth workers answered for a subscribe
 * that came without `auth`. The record is `u16 len, channel`, `u16 status`,
 * then, with status 200, the auth endpoint's JSON body
 * (`{"auth":...,"channel_data":...}`), whose signature is checked as if the
 * client sent it. Any other status refuses the subscribe with that status.
 */
export function authorized(conn: Connection, ptr: usize, len: usize, now: u64): void {
  const data = dataScanner;
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
  join(conn, data, name, nameLen, now, false);
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
 * from `data`, the scanned subscribe data. Without `auth`, an app with
 * `auth_fallback` asks the host's auth workers (`AUTH_REQUEST`) when
 * `mayAskHost`.
 */
function join(conn: Connection, data: ObjectScanner, name: usize, nameLen: usize, now: u64, mayAskHost: bool): void {
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
  const occupied = channel.clusterCount == 1;
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
  if (channel.cache && !sendCached(channel, conn.id, app.cacheTtl, now)) hookCacheMiss(app, channel);
  if (app.relay && type != ChannelType.User) relayCount(app, channel, channel.subscriptionCount - 1);
  subscriptionCountChanged(app, channel, now);
  if (occupied) hookOccupancy(app, channel, true, true);
  if (joined) hookMember(app, channel, member!, true, true);
  hookSubscriptionCount(app, channel, now);
}

/** Handles `pusher:unsubscribe`; unknown channels are ignored, as Pusher does. */
export function unsubscribe(conn: Connection, ptr: usize, len: usize, now: u64): void {
  const data = dataScanner;
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
      hookMember(app, channel, member, false, true);
    }
  }
  if (app.relay && channel.type != ChannelType.User) relayCount(app, channel, channel.subscriptionCount + 1);
  if (channel.clusterCount == 0) hookOccupancy(app, channel, false, true);
  hookSubscriptionCount(app, channel, now);
  if (channel.subscriptionCount == 0) {
    dropIfVacant(app, channel);
    return;
  }
  subscriptionCountChanged(app, channel, now);
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
      sendSubscriptionError(conn.id, name, nameLen, "LimitReached", "The presence channel is full", CloseCode.OverCapacity);
      return null;
    }
  }
  // The raw JSON keeps a string id quoted and a number a number.
  return new Member(copyBytes(idStart, idLen), copyBytes(cd.rawStart(u), cd.rawLen(u)), info);
}

/** Sends a cache channel's last event, or `pusher:cache_miss`; returns whether it had one. */
function sendCached(channel: Channel, conn: u32, ttl: u32, now: u64): bool {
  const cached = channel.cached;
  const hit = cached != null && since(now, channel.cachedAt) < <u64>ttl;
  text.reset();
  if (hit) {
    text.bytes(changetype<usize>(cached!), cached!.byteLength);
  } else {
    channel.cached = null;
    text.ascii('{"event":"pusher:cache_miss","channel":');
    writeString(text, changetype<usize>(channel.name), channel.name.byteLength);
    text.byte(0x7d);
  }
  send(conn);
  return hit;
}

