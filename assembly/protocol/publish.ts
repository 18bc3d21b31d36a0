// The one path every server-side event takes, whether it came from the HTTP
// API, a native PHP call or another node: exclusion, cache channels and
// server-to-user delivery behave the same whichever way an event arrives.

import { copyBytes } from "../channels/bytemap";
import { Channel } from "../channels/channel";
import { broadcast, relay, RELAY_CACHEABLE, text } from "../frame/output";
import { writeString, writeStringContent } from "../json/writer";
import { App } from "./app";
import { channelType, isCacheChannel, spanStartsWith, USER_CHANNEL_PREFIX } from "./names";

/**
 * Delivers event `name` with `data` on one channel (name already validated),
 * leaving out connection `exclude` (0: nobody) here and the connection with
 * socket id `sid` (may be empty) on the other nodes. The `escaped` flags say
 * whether a value is the raw content of a JSON string from a request (copied
 * as is: the scanner validated it) or plain bytes to escape.
 */
export function publish(
  app: App, channel: usize, channelLen: usize, name: usize, nameLen: usize, nameEscaped: bool,
  data: usize, dataLen: usize, dataEscaped: bool, exclude: u32, sid: usize, sidLen: usize, now: u64,
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

  deliver(app, channel, channelLen, exclude, true, dataOffset, dataEnd - dataOffset, now);
  if (app.relay) relay(changetype<usize>(app.id), app.id.byteLength, channel, channelLen, sid, sidLen, RELAY_CACHEABLE);
}

/**
 * Sends the message in `text` to this node's subscribers of one channel,
 * leaving out connection `exclude` (0: nobody). When `cacheable`, a cache
 * channel keeps it as its last event, whose data is `dataLen` bytes at
 * `dataOffset` in `text`.
 */
export function deliver(
  app: App, channel: usize, channelLen: usize, exclude: u32,
  cacheable: bool, dataOffset: u32, dataLen: u32, now: u64,
): void {
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
