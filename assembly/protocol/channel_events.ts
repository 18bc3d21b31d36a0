// The pusher_internal events the engine writes on a channel, whoever caused
// them (a subscribe here, a relay from another node, a departed node):
// subscription_succeeded, member_added / member_removed and
// subscription_count, and forgetting a channel once it is vacant.
// subscribe.ts and cluster.ts both write them; this module imports neither.

import { Channel, ChannelType, Member } from "../channels/channel";
import { ByteBuffer } from "../frame/buffer";
import { broadcast, send, text } from "../frame/output";
import { writeString, writeStringContent } from "../json/writer";
import { App } from "./app";
import { since } from "./clock";

/**
 * The JSON of the event's `data` before it is encoded as a string; owned by
 * this module, filled between beginChannelEvent and endChannelEvent.
 */
const inner = new ByteBuffer(1024);

// @ts-ignore: decorator
@inline const COUNT_THROTTLE_ABOVE: u32 = 100;
// @ts-ignore: decorator
@inline const COUNT_THROTTLE_MS: u64 = 5000;

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

/** `pusher_internal:subscription_succeeded`, with the roster on presence channels. */
export function sendSucceeded(channel: Channel, conn: u32): void {
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

/**
 * The channel's subscription count changed, here or on another node: sends
 * `pusher_internal:subscription_count` when the app asks for it; never on
 * presence or user channels, and at most every 5 s above 100 subscribers.
 */
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
