// Webhook events, in Pusher's format, reported to the host (`WEBHOOK`) for
// apps whose `Webhooks` option asks for their type; an app without webhooks
// pays one bit test per occasion. The engine decides what happened, cluster
// wide: a channel's count across every node goes 0→1 (channel_occupied) or
// back to 0 (channel_vacated), a user becomes present on no node before
// (member_added) or on none after (member_removed).
// An arrival is flagged LOCAL, to be sent, only by the node whose own
// subscribe caused it; the others report it unflagged, which only cancels a
// held-back departure (the host holds channel_vacated and member_removed for
// 3 s). A departure is flagged LOCAL by every node that sees it: two nodes'
// last subscribers may leave at once, each seeing the other's departure as
// the last, or a node may die. The host's cluster-wide claim (Redis) lets one
// node send each transition.
// This module imports no protocol module but app.ts and clock.ts.

import { Channel, ChannelType, Member } from "../channels/channel";
import { text, webhook, WEBHOOK_LOCAL } from "../frame/output";
import { writeString } from "../json/writer";
import { App } from "./app";
import { since } from "./clock";

/** Webhook event types: bit `1 << type` of the app's `Webhooks` option. */
export const enum Hook {
  ChannelOccupied = 1,
  ChannelVacated = 2,
  MemberAdded = 3,
  MemberRemoved = 4,
  ClientEvent = 5,
  CacheMiss = 6,
  SubscriptionCount = 7,
}

// @ts-ignore: decorator
@inline const COUNT_THROTTLE_ABOVE: u32 = 100;
// @ts-ignore: decorator
@inline const COUNT_THROTTLE_MS: u64 = 5000;

// @ts-ignore: decorator
@inline function wants(app: App, type: Hook): bool {
  return (app.webhooks & (<u32>1 << <u32>type)) != 0;
}

/** Writes `{"name":"<name>","channel":"<channel>"` into `text`. */
function begin(name: string, channel: Channel): void {
  text.reset();
  text.ascii('{"name":"');
  text.ascii(name);
  text.ascii('","channel":');
  writeString(text, changetype<usize>(channel.name), channel.name.byteLength);
}

function emit(app: App, type: Hook, local: bool, channel: Channel, user: ArrayBuffer | null): void {
  webhook(
    changetype<usize>(app.id), app.id.byteLength, <u8>type, local ? WEBHOOK_LOCAL : 0,
    changetype<usize>(channel.name), channel.name.byteLength,
    user ? changetype<usize>(user) : 0, user ? <usize>user.byteLength : 0,
  );
}

/**
 * The channel's count across every node went from 0 (`occupied`) or to 0;
 * `local`: this node's subscribe or unsubscribe, or a departed node, did it.
 */
export function hookOccupancy(app: App, channel: Channel, occupied: bool, local: bool): void {
  const type = occupied ? Hook.ChannelOccupied : Hook.ChannelVacated;
  if (!wants(app, type) || channel.type == ChannelType.User) return;
  begin(occupied ? "channel_occupied" : "channel_vacated", channel);
  text.byte(0x7d);
  emit(app, type, local, channel, null);
}

/** `m` became present on the cluster (`added`) or is present nowhere any more. */
export function hookMember(app: App, channel: Channel, m: Member, added: bool, local: bool): void {
  const type = added ? Hook.MemberAdded : Hook.MemberRemoved;
  if (!wants(app, type)) return;
  begin(added ? "member_added" : "member_removed", channel);
  text.ascii(',"user_id":"');
  text.bytes(changetype<usize>(m.key), m.key.byteLength);
  text.ascii('"}');
  emit(app, type, local, channel, m.key);
}

/**
 * A client event was accepted: `event` and `data` are raw JSON values (a
 * `data` that is not a string is sent as the string of its JSON, as Pusher
 * does), `user` the sender's presence member, if any.
 */
export function hookClientEvent(
  app: App, channel: Channel, event: usize, eventLen: usize, data: usize, dataLen: usize, dataIsString: bool,
  socketId: ArrayBuffer, user: Member | null,
): void {
  if (!wants(app, Hook.ClientEvent)) return;
  begin("client_event", channel);
  text.ascii(',"event":');
  text.bytes(event, <u32>eventLen);
  text.ascii(',"data":');
  if (dataIsString) text.bytes(data, <u32>dataLen);
  else if (dataLen == 0) text.ascii('"null"');
  else writeString(text, data, dataLen);
  text.ascii(',"socket_id":');
  writeString(text, changetype<usize>(socketId), socketId.byteLength);
  if (user) {
    text.ascii(',"user_id":"');
    text.bytes(changetype<usize>(user.key), user.key.byteLength);
    text.byte(0x22);
  }
  text.byte(0x7d);
  emit(app, Hook.ClientEvent, true, channel, null);
}

/** A subscriber here found nothing cached on a cache channel. */
export function hookCacheMiss(app: App, channel: Channel): void {
  if (!wants(app, Hook.CacheMiss)) return;
  begin("cache_miss", channel);
  text.byte(0x7d);
  emit(app, Hook.CacheMiss, true, channel, null);
}

/**
 * A subscribe or unsubscribe here changed the channel's count across every
 * node; never on presence channels, and above 100 subscriptions at most
 * every 5 s (the tick sends the count a throttled change left pending).
 */
export function hookSubscriptionCount(app: App, channel: Channel, now: u64): void {
  if (!wants(app, Hook.SubscriptionCount) || channel.type == ChannelType.Presence || channel.type == ChannelType.User) return;
  if (channel.clusterCount > COUNT_THROTTLE_ABOVE && since(now, channel.hookCountAt) < COUNT_THROTTLE_MS) {
    channel.hookCountPending = true;
    return;
  }
  sendCount(app, channel, now);
}

/** Sends a throttled subscription_count webhook once its 5 s have passed. */
export function flushHookCount(app: App, channel: Channel, now: u64): void {
  if (channel.hookCountPending && since(now, channel.hookCountAt) >= COUNT_THROTTLE_MS) sendCount(app, channel, now);
}

function sendCount(app: App, channel: Channel, now: u64): void {
  channel.hookCountPending = false;
  channel.hookCountAt = now;
  begin("subscription_count", channel);
  text.ascii(',"subscription_count":');
  text.decimal(channel.clusterCount);
  text.byte(0x7d);
  emit(app, Hook.SubscriptionCount, true, channel, null);
}
