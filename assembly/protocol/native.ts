// Publishes that arrive without HTTP: PHP's pogo_websocket_publish and
// pogo_websocket_broadcast_multi, and later other nodes. Same path as HTTP.

import { ArrayScanner, JsonType } from "../json/scanner";
import { appById } from "./app";
import { connectionBySocketId } from "./connection";
import { isValidChannelName, MAX_CHANNELS, MAX_NAME_LENGTH } from "./names";
import { publish } from "./publish";

/** Result codes, shared with the PHP functions. */
export const enum PublishCode {
  Ok = 0,
  UnknownApp = 1,
  BadChannel = 2,
  BadEvent = 3,
  Malformed = 7,
}

const channels = new ArrayScanner();

/** Handles a publish record (assembly/README.md); returns a `PublishCode`. */
export function nativePublish(ptr: usize, len: usize, now: u64): u32 {
  const end = ptr + len;
  let p = ptr;
  if (p + 2 > end) return PublishCode.Malformed;
  const idLen = <usize>load<u16>(p);
  const id = p + 2;
  p = id + idLen;
  if (p + 4 > end) return PublishCode.Malformed;
  const listLen = <usize>load<u32>(p);
  const list = p + 4;
  p = list + listLen;
  if (p + 2 > end) return PublishCode.Malformed;
  const nameLen = <usize>load<u16>(p);
  const name = p + 2;
  p = name + nameLen;
  if (p + 4 > end) return PublishCode.Malformed;
  const dataLen = <usize>load<u32>(p);
  const data = p + 4;
  p = data + dataLen;
  if (p + 2 > end) return PublishCode.Malformed;
  const sidLen = <usize>load<u16>(p);
  const sid = p + 2;
  if (sid + sidLen > end) return PublishCode.Malformed;

  const app = appById(id, idLen);
  if (!app) return PublishCode.UnknownApp;
  if (nameLen == 0 || nameLen > MAX_NAME_LENGTH) return PublishCode.BadEvent;
  if (!channels.begin(list, listLen)) return PublishCode.Malformed;
  let count = 0;
  while (channels.next()) {
    if (channels.type != JsonType.String || channels.escaped || !isValidChannelName(channels.start, channels.len)) {
      return PublishCode.BadChannel;
    }
    count++;
  }
  if (count == 0 || count > MAX_CHANNELS) return PublishCode.Malformed;
  let exclude: u32 = 0;
  if (sidLen > 0) {
    const conn = connectionBySocketId(sid, sidLen);
    if (conn) exclude = conn.id;
  }
  channels.begin(list, listLen);
  while (channels.next()) {
    publish(app, channels.start, channels.len, name, nameLen, false, data, dataLen, false, exclude, now);
  }
  return PublishCode.Ok;
}
