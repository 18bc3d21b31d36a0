// The one path every server-side event takes, whether it came from the HTTP
// API, a native PHP call or another node: exclusion, cache channels and
// server-to-user delivery behave the same whichever way an event arrives.

import { copyBytes } from "../channels/bytemap";
import { Channel } from "../channels/channel";
import { broadcast, relay, RELAY_CACHEABLE, text } from "../frame/output";
import { writeString, writeStringContent } from "../json/writer";
import { App } from "./app";
import { connectionBySocketId } from "./connection";
import { channelType, isCacheChannel, spanStartsWith, USER_CHANNEL_PREFIX } from "./names";

/**
 * Delivers event `name` with `data` on one channel (name already validated),
 * leaving out the connection with socket id `sid` (may be empty), here or on
 * another node. The `escaped` flags say
 * whether a value is the raw content of a JSON string from a request (copied
 * as is: the scanner validated it) or plain bytes to escape.
 */
export function publish(
  app: App, channel: usize, channelLen: usize, name: usize, nameLen: usize, nameEscaped: bool,
  data: usize, dataLen: usize, dataEscaped: bool, sid: usize, sidLen: usize, now: u64,
): void {
  text.reset();
  text.ascii('{"event":"');
  if (nameEscaped) text.bytes(name, <u32>nameLen);
  else writeStringContent(text, name, nameLen);
  text.ascii('","channel":');
  writeString(text, channel, channelLen);
  text.ascii(',"data":"');
  const dataOffset = text.len;
  if (dataEscaped) text.bytes(data, <u32>dataLen);
  else writeStringContent(text, data, dataLen);
  const dataEnd = text.len;
  text.ascii('"}');

  deliver(app, channel, channelLen, sid, sidLen, true, dataOffset, dataEnd - dataOffset, now);
  if (app.relay) relay(changetype<usize>(app.id), app.id.byteLength, channel, channelLen, sid, sidLen, RELAY_CACHEABLE);
}

/**
 * Sends the message in `text` to this node's subscribers of one channel,
 * leaving out the connection with socket id `sid` (may be empty, or name a
 * connection of another node). When `cacheable`, a cache channel keeps it as
 * its last event, whose data is `dataLen` bytes at `dataOffset` in `text`.
 */
export function deliver(
  app: App, channel: usize, channelLen: usize, sid: usize, sidLen: usize,
  cacheable: bool, dataOffset: u32, dataLen: u32, now: u64,
): void {
  const excluded = connectionBySocketId(sid, sidLen);
  const exclude = excluded ? excluded.id : 0;
  if (spanStartsWith(channel, channelLen, USER_CHANNEL_PREFIX)) {
    const prefix = <usize>USER_CHANNEL_PREFIX.length;
    const user = app.users.get(channel + prefix, channelLen - prefix);
    if (user) broadcast(user.connections.ptr, user.connections.count, exclude);
    return;
  }
  let ch = app.channels.get(channel, channelLen);
  if (cacheable && isCacheChannel(channel, channelLen)) {
    if (!ch) {
      ch = new Channel(copyBytes(channel, channelLen), channelType(channel, channelLen), true);
      app.channels.set(channel, channelLen, ch);
    }
    ch.cached = copyBytes(text.ptr, text.len);
    ch.cachedAt = now;
    ch.cachedDataOffset = dataOffset;
    ch.cachedDataLen = dataLen;
  }
  if (ch && ch.subscriptionCount > 0) broadcast(ch.subscribers.ptr, ch.subscriptionCount, exclude);
}
