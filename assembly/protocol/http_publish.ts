// Publishing through the HTTP API: POST /events and POST /batch_events.
// Every event of a request is validated before any is delivered.

import { ByteBuffer } from "../frame/buffer";
import { httpResponse, text } from "../frame/output";
import { DecodedString } from "../json/decoded";
import { ArrayScanner, JsonType, ObjectScanner, unescapeString } from "../json/scanner";
import { isValidUtf8 } from "../json/utf8";
import { writeString } from "../json/writer";
import { App } from "./app";
import { HttpStatus } from "./codes";
import { error } from "./http_reply";
import { isValidChannelName, MAX_CHANNELS, MAX_NAME_LENGTH, spanEquals, spanStartsWith } from "./names";
import { publish } from "./publish";

// @ts-ignore: decorator
@inline const MAX_BATCH: i32 = 10;

/** The request body; events() and batchEvents() scan it. */
const body = new ObjectScanner();
/** One entry of a batch, scanned by batchEvents() for readEvent(). */
const event = new ObjectScanner();
/** An event's `channels` array; each reader begins it before walking it. */
const list = new ArrayScanner();
/** The body's `batch` array, walked by batchEvents(). */
const batch = new ArrayScanner();
/** A channel name from a request body, decoded (RFC 8259 §7): channelOf() and listedChannel() fill it. */
const channelName = new DecodedString();

/** What one event of a publish request asks, after validation. */
class EventRequest {
  name: usize = 0;
  nameLen: usize = 0;
  data: usize = 0;
  dataLen: usize = 0;
  /** The socket id of the connection to leave out (may be empty). */
  sid: usize = 0;
  sidLen: usize = 0;
  /** A single `channel` member, or the span of the `channels` array. */
  channel: usize = 0;
  channelLen: usize = 0;
  channelsArray: bool = false;
  /** The single `channel` holds escapes: decode it with `channelOf`. */
  channelEscaped: bool = false;
  userCount: bool = false;
  subscriptionCount: bool = false;
}

const requests = new StaticArray<EventRequest>(MAX_BATCH);
for (let i = 0; i < MAX_BATCH; i++) requests[i] = new EventRequest();

/** Status of the last validation failure, with its message (readEvent). */
let refusedStatus: u16 = 0;
let refusedMessage: string = "";

function invalid(status: u16, message: string): bool {
  refusedStatus = status;
  refusedMessage = message;
  return false;
}

/** Validates one event object (scanned into `s`) into `r`. */
function readEvent(app: App, s: ObjectScanner, r: EventRequest): bool {
  const n = s.find("name");
  if (n < 0 || s.type(n) != JsonType.String || s.valueLen(n) == 0) {
    return invalid(HttpStatus.BadRequest, "The event needs a name");
  }
  // The limit is on the name as decoded (RFC 8259 §7), not as escaped.
  if (s.valueLen(n) > MAX_NAME_LENGTH && decodedLength(s, n) > <i32>MAX_NAME_LENGTH) {
    return invalid(HttpStatus.BadRequest, "Event names are at most 200 characters");
  }
  r.name = s.valueStart(n);
  r.nameLen = s.valueLen(n);
  const d = s.find("data");
  if (s.type(d) != JsonType.String) return invalid(HttpStatus.BadRequest, "The event needs data, as a string");
  r.data = s.valueStart(d);
  r.dataLen = s.valueLen(d);
  // The host passes bodies unchecked; clients drop text frames that are not UTF-8.
  if (!isValidUtf8(r.name, r.nameLen) || !isValidUtf8(r.data, r.dataLen)) {
    return invalid(HttpStatus.BadRequest, "The event name and data must be valid UTF-8");
  }
  if (<u32>r.dataLen > app.maxEventPayload && decodedLength(s, d) > <i32>app.maxEventPayload) {
    return invalid(HttpStatus.PayloadTooLarge, "Payload too large: data is over max_event_payload");
  }
  const c = s.find("channel");
  const cs = s.find("channels");
  r.channelsArray = false;
  r.channelEscaped = false;
  if (cs >= 0) {
    if (s.type(cs) != JsonType.Array || !list.begin(s.valueStart(cs), s.valueLen(cs))) {
      return invalid(HttpStatus.BadRequest, "channels must be an array of channel names");
    }
    let count = 0;
    while (list.next()) {
      if (list.type != JsonType.String || !listedChannel() || !isValidChannelName(channelName.ptr, channelName.len)) {
        return invalid(HttpStatus.BadRequest, "Invalid channel name");
      }
      count++;
    }
    if (count == 0) return invalid(HttpStatus.BadRequest, "The event needs at least one channel");
    if (count > MAX_CHANNELS) return invalid(HttpStatus.BadRequest, "Cannot broadcast to more than 100 channels at once");
    r.channel = s.valueStart(cs);
    r.channelLen = s.valueLen(cs);
    r.channelsArray = true;
  } else if (c >= 0) {
    if (s.type(c) != JsonType.String) return invalid(HttpStatus.BadRequest, "Invalid channel name");
    r.channel = s.valueStart(c);
    r.channelLen = s.valueLen(c);
    r.channelEscaped = s.valueEscaped(c);
    if (!channelOf(r) || !isValidChannelName(channelName.ptr, channelName.len)) {
      return invalid(HttpStatus.BadRequest, "Invalid channel name");
    }
  } else {
    return invalid(HttpStatus.BadRequest, "The event needs a channel or channels");
  }
  r.sidLen = 0;
  const sid = s.find("socket_id");
  if (sid >= 0 && s.type(sid) == JsonType.String) {
    if (!isSocketId(s.valueStart(sid), s.valueLen(sid))) return invalid(HttpStatus.BadRequest, "Invalid socket_id");
    r.sid = s.valueStart(sid);
    r.sidLen = s.valueLen(sid);
  }
  r.userCount = false;
  r.subscriptionCount = false;
  const info = s.find("info");
  if (info >= 0 && s.type(info) == JsonType.String) {
    r.userCount = listsItem(s.valueStart(info), s.valueLen(info), "user_count");
    r.subscriptionCount = listsItem(s.valueStart(info), s.valueLen(info), "subscription_count");
  }
  return true;
}

/** Decodes the current element of `list` into `channelName`. */
function listedChannel(): bool {
  return channelName.set(list.start, list.len, list.escaped);
}

/** Decodes the single channel of `r` into `channelName`. */
function channelOf(r: EventRequest): bool {
  return channelName.set(r.channel, r.channelLen, r.channelEscaped);
}

const unescaped = new ByteBuffer(1024);

function decodedLength(s: ObjectScanner, i: i32): i32 {
  if (s.type(i) != JsonType.String || !s.valueEscaped(i)) return <i32>s.valueLen(i);
  unescaped.reset();
  return unescapeStringLength(s.valueStart(i), s.valueLen(i));
}

function unescapeStringLength(ptr: usize, len: usize): i32 {
  return unescapeString(ptr, len, unescaped.ensure(<u32>len));
}

function listsItem(ptr: usize, len: usize, item: string): bool {
  let s: usize = 0;
  while (s <= len) {
    let e = s;
    while (e < len && load<u8>(ptr + e) != 0x2c) e++;
    if (spanEquals(ptr + s, e - s, item)) return true;
    s = e + 1;
  }
  return false;
}

/** `\d+\.\d+`, the only socket id shape the Pusher SDKs accept. */
function isSocketId(ptr: usize, len: usize): bool {
  let dots = 0;
  let digits = 0;
  for (let i: usize = 0; i < len; i++) {
    const c = load<u8>(ptr + i);
    if (c == 0x2e) {
      if (digits == 0 || dots++ > 0) return false;
      digits = 0;
    } else if (<u32>c - 48 < 10) {
      digits++;
    } else {
      return false;
    }
  }
  return dots == 1 && digits > 0;
}

/** Publishes a validated event on each of its channels. */
function publishRequest(app: App, r: EventRequest, now: u64): void {
  if (!r.channelsArray) {
    channelOf(r);
    publish(app, channelName.ptr, channelName.len, r.name, r.nameLen, true, r.data, r.dataLen, true, r.sid, r.sidLen, now);
    return;
  }
  list.begin(r.channel, r.channelLen);
  while (list.next()) {
    listedChannel();
    publish(app, channelName.ptr, channelName.len, r.name, r.nameLen, true, r.data, r.dataLen, true, r.sid, r.sidLen, now);
  }
}

/** Writes `"name":{"user_count":N,"subscription_count":M}` for one channel. */
function writeChannelInfo(app: App, name: usize, nameLen: usize, r: EventRequest, named: bool): void {
  const channel = app.channels.get(name, nameLen);
  if (named) {
    writeString(text, name, nameLen);
    text.byte(0x3a);
  }
  text.byte(0x7b);
  let first = true;
  const presence = spanStartsWith(name, nameLen, "presence-");
  if (r.userCount && presence) {
    text.ascii('"user_count":');
    text.decimal(channel ? channel.userCount : 0);
    first = false;
  }
  if (r.subscriptionCount && !presence) {
    if (!first) text.byte(0x2c);
    text.ascii('"subscription_count":');
    text.decimal(channel ? channel.clusterCount : 0);
  }
  text.byte(0x7d);
}

/** POST /events: one event, on one channel or up to 100. */
export function events(req: u32, app: App, ptr: usize, len: usize, now: u64): void {
  if (!body.scan(ptr, len)) return error(req, HttpStatus.BadRequest, "The body must be a JSON object");
  const r = unchecked(requests[0]);
  if (!readEvent(app, body, r)) return error(req, refusedStatus, refusedMessage);
  publishRequest(app, r, now);
  text.reset();
  if (!r.userCount && !r.subscriptionCount) {
    text.ascii("{}");
    return httpResponse(req, HttpStatus.OK);
  }
  text.ascii('{"channels":{');
  if (r.channelsArray) {
    list.begin(r.channel, r.channelLen);
    let first = true;
    while (list.next()) {
      if (!first) text.byte(0x2c);
      first = false;
      listedChannel();
      writeChannelInfo(app, channelName.ptr, channelName.len, r, true);
    }
  } else {
    channelOf(r);
    writeChannelInfo(app, channelName.ptr, channelName.len, r, true);
  }
  text.ascii("}}");
  httpResponse(req, HttpStatus.OK);
}

/** POST /batch_events: up to 10 events, each on one channel; all valid or none delivered. */
export function batchEvents(req: u32, app: App, ptr: usize, len: usize, now: u64): void {
  if (!body.scan(ptr, len)) return error(req, HttpStatus.BadRequest, "The body must be a JSON object");
  const b = body.find("batch");
  if (b < 0 || body.type(b) != JsonType.Array || !batch.begin(body.valueStart(b), body.valueLen(b))) {
    return error(req, HttpStatus.BadRequest, "batch must be an array of events");
  }
  // Validate everything first: a refused batch delivers nothing.
  let count = 0;
  let info = false;
  while (batch.next()) {
    if (count == MAX_BATCH) return error(req, HttpStatus.BadRequest, "Cannot batch-send more than 10 events at once");
    if (batch.type != JsonType.Object || !event.scan(batch.start, batch.len)) {
      return error(req, HttpStatus.BadRequest, "Each batch entry must be an event object");
    }
    const r = unchecked(requests[count]);
    if (!readEvent(app, event, r)) return error(req, refusedStatus, refusedMessage);
    if (r.channelsArray) return error(req, HttpStatus.BadRequest, "Batch events take a single channel each");
    info = info || r.userCount || r.subscriptionCount;
    count++;
  }
  for (let i = 0; i < count; i++) publishRequest(app, unchecked(requests[i]), now);
  text.reset();
  if (!info) {
    text.ascii("{}");
    return httpResponse(req, HttpStatus.OK);
  }
  text.ascii('{"batch":[');
  for (let i = 0; i < count; i++) {
    if (i > 0) text.byte(0x2c);
    const r = unchecked(requests[i]);
    channelOf(r);
    writeChannelInfo(app, channelName.ptr, channelName.len, r, false);
  }
  text.ascii("]}");
  httpResponse(req, HttpStatus.OK);
}
