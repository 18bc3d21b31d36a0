// Publishes that arrive without HTTP: PHP's pogo_websocket_publish and
// pogo_websocket_broadcast_multi. Same path as HTTP.

import { DecodedString } from "../json/decoded";
import { ArrayScanner, JsonType } from "../json/scanner";
import { isValidUtf8 } from "../json/utf8";
import { appById } from "./app";
import { isValidChannelName, MAX_CHANNELS, MAX_NAME_LENGTH } from "./names";
import { publish } from "./publish";
import { fields } from "./record";

/**
 * The `PUBLISH_RESULT` code of a publish record. The host only logs a
 * non-zero one (host-go/hub): PHP never sees it. The PHP functions return the
 * bridge's own codes (host-go/frankenphp/internal/bridge), having checked the
 * same things before the record is queued; the numbers kept here match the
 * bridge's for the same fault (1 HubMissing, 2 ChannelInvalid, 3
 * EventInvalid, 7 ChannelsInvalid) so that a log line reads alike.
 */
export const enum PublishCode {
  Ok = 0,
  UnknownApp = 1,
  BadChannel = 2,
  BadEvent = 3,
  /** `data` is not valid UTF-8: no client could read the frame. */
  BadPayload = 5,
  Malformed = 7,
}

const channels = new ArrayScanner();
const channelName = new DecodedString();

/** Handles a publish record (assembly/README.md); returns a `PublishCode`. */
export function nativePublish(ptr: usize, len: usize, now: u64): u32 {
  const f = fields.begin(ptr, len);
  if (!f.str16()) return PublishCode.Malformed;
  const id = f.start, idLen = f.len;
  if (!f.str32()) return PublishCode.Malformed;
  const list = f.start, listLen = f.len;
  if (!f.str16()) return PublishCode.Malformed;
  const name = f.start, nameLen = f.len;
  if (!f.str32()) return PublishCode.Malformed;
  const data = f.start, dataLen = f.len;
  if (!f.str16()) return PublishCode.Malformed;
  const sid = f.start, sidLen = f.len;

  const app = appById(id, idLen);
  if (!app) return PublishCode.UnknownApp;
  if (nameLen == 0 || nameLen > MAX_NAME_LENGTH || !isValidUtf8(name, nameLen)) return PublishCode.BadEvent;
  if (!isValidUtf8(data, dataLen)) return PublishCode.BadPayload;
  if (!channels.begin(list, listLen)) return PublishCode.Malformed;
  let count = 0;
  while (channels.next()) {
    if (channels.type != JsonType.String || !channelName.set(channels.start, channels.len, channels.escaped) ||
      !isValidChannelName(channelName.ptr, channelName.len)) {
      return PublishCode.BadChannel;
    }
    count++;
  }
  if (count == 0 || count > MAX_CHANNELS) return PublishCode.Malformed;
  channels.begin(list, listLen);
  while (channels.next()) {
    channelName.set(channels.start, channels.len, channels.escaped);
    publish(app, channelName.ptr, channelName.len, name, nameLen, false, data, dataLen, false, sid, sidLen, now);
  }
  return PublishCode.Ok;
}
