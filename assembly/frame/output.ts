// The action batch the engine hands back to the host, and WebSocket framing.
// Protocol code writes a message's JSON into `text`, then calls one of the
// emitters below, which frames it (server frames are unmasked, RFC 6455 §5.2)
// and appends one action record. A broadcast is framed once, whatever the
// number of recipients.

import { Action } from "../abi";
import { Channel } from "../channels/channel";
import { DIGEST_BUCKETS, USERS_ENTRY } from "../channels/digest";
import { ByteBuffer } from "./buffer";

/**
 * The action batch being built by the current `process` call: reset by
 * engine.ts, appended only by the emitters in this file.
 */
export const out = new ByteBuffer(1 << 16);

/**
 * The JSON text of the message being built. Any writer may reset it, fill it
 * and emit it; nothing else may write to it between its reset and its last emit.
 */
export const text = new ByteBuffer(1 << 12);

// @ts-ignore: decorator
@inline const OP_TEXT: u8 = 0x81; // FIN + text
// @ts-ignore: decorator
@inline const OP_CLOSE: u8 = 0x88; // FIN + close

// @ts-ignore: decorator
@inline function headerSize(n: u32): u32 {
  return n < 126 ? 2 : n < 65536 ? 4 : 10;
}

function writeFrame(opcode: u8, src: usize, n: u32): void {
  const p = out.ensure(headerSize(n) + n);
  store<u8>(p, opcode);
  let h: usize = 2;
  if (n < 126) {
    store<u8>(p, <u8>n, 1);
  } else if (n < 65536) {
    store<u8>(p, 126, 1);
    store<u16>(p, bswap<u16>(<u16>n), 2);
    h = 4;
  } else {
    store<u8>(p, 127, 1);
    store<u64>(p, bswap<u64>(<u64>n), 2);
    h = 10;
  }
  memory.copy(p + h, src, <usize>n);
  out.len += <u32>h + n;
}

// @ts-ignore: decorator
@inline function record(kind: Action, id: u32, len: u32): void {
  out.byte(<u8>kind);
  out.u32(id);
  out.u32(len);
}

/** Sends the message in `text` to one connection. */
export function send(conn: u32): void {
  record(Action.Send, conn, headerSize(text.len) + text.len);
  writeFrame(OP_TEXT, text.ptr, text.len);
}

/**
 * Sends the message in `text` to `count` connections whose ids are the u32s
 * at `ids`, leaving out `exclude` (0: nobody).
 */
export function broadcast(ids: usize, count: u32, exclude: u32): void {
  let n = count;
  let skip: i32 = -1;
  if (exclude != 0) {
    for (let i: u32 = 0; i < count; i++) {
      if (load<u32>(ids + (<usize>i << 2)) == exclude) {
        skip = <i32>i;
        n--;
        break;
      }
    }
  }
  if (n == 0) return;
  const frameLen = headerSize(text.len) + text.len;
  record(Action.Broadcast, 0, 4 + frameLen + 4 + (n << 2));
  out.u32(frameLen);
  writeFrame(OP_TEXT, text.ptr, text.len);
  out.u32(n);
  if (skip < 0) {
    out.bytes(ids, count << 2);
  } else {
    out.bytes(ids, <u32>skip << 2);
    out.bytes(ids + ((<usize>skip + 1) << 2), (count - <u32>skip - 1) << 2);
  }
}

/** Closes a connection with a close frame carrying `code` and an ASCII `reason`. */
export function close(conn: u32, code: u16, reason: string): void {
  const n = 2 + <u32>reason.length;
  record(Action.Close, conn, headerSize(n) + n);
  const p = out.ensure(2 + n);
  store<u8>(p, OP_CLOSE);
  store<u8>(p, <u8>n, 1);
  store<u16>(p, bswap<u16>(code), 2);
  out.len += 4;
  out.ascii(reason);
}

/** Answers HTTP request `req` with `status` and the JSON body in `text`. */
export function httpResponse(req: u32, status: u16): void {
  record(Action.HttpResponse, req, 2 + text.len);
  out.u16(status);
  out.bytes(text.ptr, text.len);
}

/**
 * Asks the host to authorise connection `conn` (socket id at `sid`) for
 * channel `name` through its auth workers; the answer comes back as AUTH_RESULT.
 */
export function authRequest(conn: u32, sid: usize, sidLen: usize, name: usize, nameLen: usize): void {
  record(Action.AuthRequest, conn, 4 + <u32>sidLen + <u32>nameLen);
  out.field16(sid, sidLen);
  out.field16(name, nameLen);
}

/** Reports the outcome of native publish `id`. */
export function publishResult(id: u32, code: u32): void {
  record(Action.PublishResult, id, 4);
  out.u32(code);
}

/** Relay record kinds. */
export const enum Relay {
  /** An event published on one channel. */
  Event = 1,
  /** terminate_connections for one user. */
  Terminate = 2,
  /** A user became present on a presence channel on the sending node. */
  MemberAdded = 3,
  /** A user left a presence channel on the sending node. */
  MemberRemoved = 4,
  /** The sending node's number of subscriptions to a channel changed. */
  ChannelCount = 5,
  /** The sending node's digest of its counts and members (protocol/entropy.ts). */
  Digest = 6,
  /** Asks the node with a token for its state in the buckets of a mask. */
  Want = 7,
  /** The sending node's counts and members in one bucket, replacing what the others hold. */
  State = 8,
  /** A user signed in on the sending node, where it had no connection. */
  UserOnline = 9,
  /** A user's last connection on the sending node closed. */
  UserOffline = 10,
}

/** Relay record flag: the event may be kept as a cache channel's last event. */
export const RELAY_CACHEABLE: u8 = 1;

/**
 * Hands the message in `text`, published on one channel of app `appId`, to
 * the host for the other nodes (see the relay record in assembly/README.md).
 * `sid` is the socket id to leave out there.
 */
export function relay(
  appId: usize, appIdLen: usize, channel: usize, channelLen: usize, sid: usize, sidLen: usize, flags: u8,
): void {
  record(Action.Relay, 0, 1 + 2 + <u32>appIdLen + 2 + <u32>channelLen + 2 + <u32>sidLen + 1 + text.len);
  out.byte(<u8>Relay.Event);
  out.field16(appId, appIdLen);
  out.field16(channel, channelLen);
  out.field16(sid, sidLen);
  out.byte(flags);
  out.bytes(text.ptr, text.len);
}

/** Hands terminate_connections for user `user` of app `appId` to the host for the other nodes. */
export function relayTerminate(appId: usize, appIdLen: usize, user: usize, userLen: usize): void {
  record(Action.Relay, 0, 1 + 2 + <u32>appIdLen + 2 + <u32>userLen);
  out.byte(<u8>Relay.Terminate);
  out.field16(appId, appIdLen);
  out.field16(user, userLen);
}

/**
 * Tells the other nodes that user `key` (`user_id` JSON `idJson`, `user_info`
 * JSON `info`, possibly empty) joined presence channel `channel` here, or
 * left it (`added` false: only the channel and the key are sent).
 */
export function relayMember(
  added: bool, appId: usize, appIdLen: usize, channel: usize, channelLen: usize,
  key: usize, keyLen: usize, idJson: usize, idJsonLen: usize, info: usize, infoLen: usize,
): void {
  const extra: u32 = added ? 2 + <u32>idJsonLen + <u32>infoLen : 0;
  record(Action.Relay, 0, 1 + 2 + <u32>appIdLen + 2 + <u32>channelLen + 2 + <u32>keyLen + extra);
  out.byte(added ? <u8>Relay.MemberAdded : <u8>Relay.MemberRemoved);
  out.field16(appId, appIdLen);
  out.field16(channel, channelLen);
  out.field16(key, keyLen);
  if (!added) return;
  out.field16(idJson, idJsonLen);
  out.bytes(info, <u32>infoLen);
}

/** Tells the other nodes that user `user` of app `appId` came online here, or went offline. */
export function relayUser(online: bool, appId: usize, appIdLen: usize, user: usize, userLen: usize): void {
  record(Action.Relay, 0, 1 + 2 + <u32>appIdLen + 2 + <u32>userLen);
  out.byte(online ? <u8>Relay.UserOnline : <u8>Relay.UserOffline);
  out.field16(appId, appIdLen);
  out.field16(user, userLen);
}

/** Tells the other nodes that `channel` of app `appId` has `count` subscriptions here. */
export function relayChannelCount(appId: usize, appIdLen: usize, channel: usize, channelLen: usize, count: u32): void {
  record(Action.Relay, 0, 1 + 2 + <u32>appIdLen + 2 + <u32>channelLen + 4);
  out.byte(<u8>Relay.ChannelCount);
  out.field16(appId, appIdLen);
  out.field16(channel, channelLen);
  out.u32(count);
}

/** `WEBHOOK` flag: this node caused the event and sends it. */
export const WEBHOOK_LOCAL: u8 = 1;

/**
 * Reports a webhook event of app `appId`, whose JSON object is in `text`:
 * its `type` (assembly/protocol/webhooks.ts), `flags`, the channel and, for
 * member events, the user id key the host pairs events by.
 */
export function webhook(
  appId: usize, appIdLen: usize, type: u8, flags: u8, channel: usize, channelLen: usize, user: usize, userLen: usize,
): void {
  record(Action.Webhook, 0, 2 + <u32>appIdLen + 2 + 2 + <u32>channelLen + 2 + <u32>userLen + text.len);
  out.field16(appId, appIdLen);
  out.byte(type);
  out.byte(flags);
  out.field16(channel, channelLen);
  out.field16(user, userLen);
  out.bytes(text.ptr, text.len);
}

/** Writes a u64 into `out`. */
function word64(v: u64): void {
  store<u64>(out.ensure(8), v);
  out.len += 8;
}

/** Tells the other nodes the digest of app `appId` here, from the node with token `token`. */
export function relayDigest(appId: usize, appIdLen: usize, token: u64, buckets: StaticArray<u64>): void {
  record(Action.Relay, 0, 1 + 2 + <u32>appIdLen + 8 + <u32>DIGEST_BUCKETS * 8);
  out.byte(<u8>Relay.Digest);
  out.field16(appId, appIdLen);
  word64(token);
  for (let b = 0; b < DIGEST_BUCKETS; b++) word64(unchecked(buckets[b]));
}

/** Asks the node with token `token` for its state of app `appId` in the buckets of `mask`. */
export function relayWant(appId: usize, appIdLen: usize, token: u64, mask: u64): void {
  record(Action.Relay, 0, 1 + 2 + <u32>appIdLen + 16);
  out.byte(<u8>Relay.Want);
  out.field16(appId, appIdLen);
  word64(token);
  word64(mask);
}

/**
 * Tells the other nodes the subscription count and present members here of
 * every channel of bucket `bucket` of app `appId`, listed in `channels`, and,
 * for the bucket of the signed-in users, the `users` signed in here.
 */
export function relayState(
  appId: usize, appIdLen: usize, bucket: u8, channels: Array<Channel>, users: Array<ArrayBuffer> | null,
): void {
  const at = out.len;
  record(Action.Relay, 0, 0);
  out.byte(<u8>Relay.State);
  out.field16(appId, appIdLen);
  out.byte(bucket);
  for (let i = 0, n = channels.length; i < n; i++) {
    const ch = unchecked(channels[i]);
    out.field16(changetype<usize>(ch.name), ch.name.byteLength);
    out.u32(ch.subscriptionCount);
    const members = ch.members;
    const countAt = out.len;
    out.u32(0);
    if (!members) continue;
    let present: u32 = 0;
    for (let j = 0, c = members.capacity; j < c; j++) {
      const m = members.valueAt(j);
      if (!m || m.connections <= 0) continue;
      present++;
      out.field16(changetype<usize>(m.key), m.key.byteLength);
      out.field16(changetype<usize>(m.idJson), m.idJson.byteLength);
      out.u32(m.info.byteLength);
      out.bytes(changetype<usize>(m.info), m.info.byteLength);
    }
    store<u32>(out.ptr + <usize>countAt, present);
  }
  if (users) {
    out.field16(changetype<usize>(USERS_ENTRY), USERS_ENTRY.byteLength);
    out.u32(users.length);
    for (let i = 0, n = users.length; i < n; i++) {
      const id = unchecked(users[i]);
      out.field16(changetype<usize>(id), id.byteLength);
    }
  }
  // The record's length, now known, into its header (kind, id, length).
  store<u32>(out.ptr + <usize>at + 5, out.len - at - 9);
}
