// The signed Pusher HTTP API (REST), Reverb-compatible: events, batches,
// channel queries, users, connections and termination. The host passes the
// path from `/apps/` on, so a prefix added by a proxy never breaks signatures.

import { Channel, ChannelType } from "../channels/channel";
import { md5 } from "../crypto/md5";
import { hexEncode } from "../crypto/hex";
import { equalConstantTime } from "../crypto/compare";
import { ByteBuffer } from "../frame/buffer";
import { httpResponse, relayTerminate, text } from "../frame/output";
import { DecodedString } from "../json/decoded";
import { ArrayScanner, JsonType, ObjectScanner, unescapeString } from "../json/scanner";
import { isValidUtf8 } from "../json/utf8";
import { writeString } from "../json/writer";
import { App, appById } from "./app";
import { signatureMatches, signBegin, signBytes } from "./auth";
import { since } from "./clock";
import { terminateUser } from "./lifecycle";
import { isValidChannelName, MAX_CHANNELS, MAX_NAME_LENGTH, spanEquals, spanStartsWith } from "./names";
import { publish } from "./publish";
import { percentDecode, Query } from "./query";
import { fields } from "./record";

// @ts-ignore: decorator
@inline const MAX_BATCH: i32 = 10;
// @ts-ignore: decorator
@inline const TIMESTAMP_WINDOW_S: i64 = 600;

const query = new Query();
const body = new ObjectScanner();
const event = new ObjectScanner();
const list = new ArrayScanner();
const batch = new ArrayScanner();
const segment = new ByteBuffer(256);
/** A channel name from a request body, decoded (RFC 8259 §7). */
const channelName = new DecodedString();
const bodyMd5 = memory.data(16);
const bodyMd5Hex = memory.data(32);
const NEWLINE = memory.data<u8>([0x0a]);
const AMP = memory.data<u8>([0x26]);
const EQ = memory.data<u8>([0x3d]);

/** Handles one HTTP request record (see assembly/README.md). */
export function handleHttp(req: u32, ptr: usize, len: usize, now: u64): void {
  const f = fields.begin(ptr, len);
  if (!f.str16()) return error(req, 400, "Malformed request");
  const method = f.start, methodLen = f.len;
  if (!f.str16()) return error(req, 400, "Malformed request");
  const path = f.start, pathLen = f.len;
  if (!f.str32()) return error(req, 400, "Malformed request");
  const rawQuery = f.start, queryLen = f.len;
  if (!f.str32()) return error(req, 400, "Malformed request");
  const bodyPtr = f.start, bodyLen = f.len;

  // /apps/{app_id}/{route...}
  if (!spanStartsWith(path, pathLen, "/apps/")) return error(req, 404, "Not found");
  const idStart = path + 6;
  let idEnd = idStart;
  while (idEnd < path + pathLen && load<u8>(idEnd) != 0x2f) idEnd++;
  const app = appById(idStart, idEnd - idStart);
  if (!app) return error(req, 404, "No matching application for this id");
  const route = idEnd;
  const routeLen = path + pathLen - idEnd;

  if (!query.parse(rawQuery, queryLen)) return error(req, 400, "Malformed query string");
  const refusal = authenticate(app, method, methodLen, path, pathLen, bodyPtr, bodyLen, now);
  if (refusal != null) return error(req, 401, refusal);

  const isPost = spanEquals(method, methodLen, "POST");
  const isGet = spanEquals(method, methodLen, "GET");
  if (spanEquals(route, routeLen, "/events")) {
    if (!isPost) return error(req, 405, "Method not allowed");
    return events(req, app, bodyPtr, bodyLen, now);
  }
  if (spanEquals(route, routeLen, "/batch_events")) {
    if (!isPost) return error(req, 405, "Method not allowed");
    return batchEvents(req, app, bodyPtr, bodyLen, now);
  }
  if (spanEquals(route, routeLen, "/channels")) {
    if (!isGet) return error(req, 405, "Method not allowed");
    return listChannels(req, app);
  }
  if (spanEquals(route, routeLen, "/connections")) {
    if (!isGet) return error(req, 405, "Method not allowed");
    text.reset();
    text.ascii('{"connections":');
    text.decimal(app.connections);
    text.byte(0x7d);
    return httpResponse(req, 200);
  }
  if (spanStartsWith(route, routeLen, "/channels/")) {
    if (!isGet) return error(req, 405, "Method not allowed");
    const rest = route + 10;
    const restLen = routeLen - 10;
    let slash: usize = 0;
    while (slash < restLen && load<u8>(rest + slash) != 0x2f) slash++;
    segment.reset();
    if (!percentDecode(segment, rest, slash, false, false)) return error(req, 400, "Malformed channel name");
    if (!isValidChannelName(segment.ptr, segment.len)) return error(req, 400, "Invalid channel name");
    if (slash == restLen) return channelInfo(req, app, now);
    if (spanEquals(rest + slash, restLen - slash, "/users")) return channelUsers(req, app);
    return error(req, 404, "Not found");
  }
  if (spanStartsWith(route, routeLen, "/users/") && spanEndsWith(route, routeLen, "/terminate_connections")) {
    if (!isPost) return error(req, 405, "Method not allowed");
    // "/users/terminate_connections" matches both ends with the slash shared:
    // the user id lies strictly between them, so check before subtracting.
    if (routeLen <= 7 + 22) return error(req, 400, "Malformed user id");
    segment.reset();
    if (!percentDecode(segment, route + 7, routeLen - 7 - 22, false, false) || segment.len == 0) {
      return error(req, 400, "Malformed user id");
    }
    terminateUser(app, segment.ptr, segment.len, now);
    if (app.relay) relayTerminate(changetype<usize>(app.id), app.id.byteLength, segment.ptr, segment.len);
    text.reset();
    text.ascii("{}");
    return httpResponse(req, 200);
  }
  error(req, 404, "Not found");
}

function spanEndsWith(ptr: usize, len: usize, s: string): bool {
  const n = <usize>s.length;
  return len >= n && spanStartsWith(ptr + len - n, n, s);
}

function error(req: u32, status: u16, message: string): void {
  text.reset();
  text.ascii('{"error":"');
  text.ascii(message);
  text.ascii('","code":');
  text.decimal(status);
  text.byte(0x7d);
  httpResponse(req, status);
}

/**
 * Checks `auth_key`, `auth_timestamp` (±600 s), `body_md5` and
 * `auth_signature` = HMAC-SHA256 of `METHOD\nPATH\nsorted query`.
 * Returns null when the request is authentic, else why not.
 */
function authenticate(
  app: App, method: usize, methodLen: usize, path: usize, pathLen: usize,
  bodyPtr: usize, bodyLen: usize, now: u64,
): string | null {
  const key = query.find("auth_key");
  const sig = query.find("auth_signature");
  const ts = query.find("auth_timestamp");
  if (key < 0 || sig < 0 || ts < 0) return "Missing auth_key, auth_timestamp or auth_signature";
  const keyLen = query.valueLength(key);
  if (keyLen != <usize>app.key.byteLength || memory.compare(query.valuePtr(key), changetype<usize>(app.key), keyLen) != 0) {
    return "Unknown auth_key";
  }
  const seconds = parseDecimal(query.valuePtr(ts), query.valueLength(ts));
  const skew = seconds - <i64>(now / 1000);
  if (seconds < 0 || skew > TIMESTAMP_WINDOW_S || skew < -TIMESTAMP_WINDOW_S) {
    return "Timestamp expired: auth_timestamp must be within 600 seconds of the server time";
  }
  if (bodyLen > 0) {
    const m = query.find("body_md5");
    if (m < 0) return "Missing body_md5";
    md5(bodyPtr, bodyLen, bodyMd5);
    hexEncode(bodyMd5, 16, bodyMd5Hex);
    if (query.valueLength(m) != 32 || !equalConstantTime(query.valuePtr(m), bodyMd5Hex, 32)) {
      return "body_md5 does not match the body";
    }
  }
  signBegin(app);
  signBytes(method, methodLen);
  signBytes(NEWLINE, 1);
  signBytes(path, pathLen);
  signBytes(NEWLINE, 1);
  let first = true;
  for (let k = 0; k < query.count; k++) {
    const i = query.sorted(k);
    if (i == sig) continue;
    if (!first) signBytes(AMP, 1);
    first = false;
    signBytes(query.keyPtr(i), query.keyLength(i));
    signBytes(EQ, 1);
    signBytes(query.valuePtr(i), query.valueLength(i));
  }
  if (!signatureMatches(query.valuePtr(sig), query.valueLength(sig))) return "Authentication signature invalid";
  return null;
}

function parseDecimal(ptr: usize, len: usize): i64 {
  if (len == 0 || len > 18) return -1;
  let v: i64 = 0;
  for (let i: usize = 0; i < len; i++) {
    const d = <u32>load<u8>(ptr + i) - 48;
    if (d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

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

/** Status of the last validation failure, with its message. */
let refusedStatus: u16 = 0;
let refusedMessage: string = "";

function refuse(status: u16, message: string): bool {
  refusedStatus = status;
  refusedMessage = message;
  return false;
}

/** Validates one event object (scanned into `s`) into `r`. */
function readEvent(app: App, s: ObjectScanner, r: EventRequest): bool {
  const n = s.find("name");
  if (n < 0 || s.type(n) != JsonType.String || s.valueLen(n) == 0) return refuse(400, "The event needs a name");
  if (s.valueLen(n) > MAX_NAME_LENGTH) return refuse(400, "Event names are at most 200 characters");
  r.name = s.valueStart(n);
  r.nameLen = s.valueLen(n);
  const d = s.find("data");
  if (s.type(d) != JsonType.String) return refuse(400, "The event needs data, as a string");
  r.data = s.valueStart(d);
  r.dataLen = s.valueLen(d);
  // The host passes bodies unchecked; clients drop text frames that are not UTF-8.
  if (!isValidUtf8(r.name, r.nameLen) || !isValidUtf8(r.data, r.dataLen)) {
    return refuse(400, "The event name and data must be valid UTF-8");
  }
  if (<u32>r.dataLen > app.maxEventPayload && decodedLength(s, d) > <i32>app.maxEventPayload) {
    return refuse(413, "Payload too large: data is over max_event_payload");
  }
  const c = s.find("channel");
  const cs = s.find("channels");
  r.channelsArray = false;
  r.channelEscaped = false;
  if (cs >= 0) {
    if (s.type(cs) != JsonType.Array || !list.begin(s.valueStart(cs), s.valueLen(cs))) {
      return refuse(400, "channels must be an array of channel names");
    }
    let count = 0;
    while (list.next()) {
      if (list.type != JsonType.String || !listedChannel() || !isValidChannelName(channelName.ptr, channelName.len)) {
        return refuse(400, "Invalid channel name");
      }
      count++;
    }
    if (count == 0) return refuse(400, "The event needs at least one channel");
    if (count > MAX_CHANNELS) return refuse(400, "Cannot broadcast to more than 100 channels at once");
    r.channel = s.valueStart(cs);
    r.channelLen = s.valueLen(cs);
    r.channelsArray = true;
  } else if (c >= 0) {
    if (s.type(c) != JsonType.String) return refuse(400, "Invalid channel name");
    r.channel = s.valueStart(c);
    r.channelLen = s.valueLen(c);
    r.channelEscaped = s.valueEscaped(c);
    if (!channelOf(r) || !isValidChannelName(channelName.ptr, channelName.len)) return refuse(400, "Invalid channel name");
  } else {
    return refuse(400, "The event needs a channel or channels");
  }
  r.sidLen = 0;
  const sid = s.find("socket_id");
  if (sid >= 0 && s.type(sid) == JsonType.String) {
    if (!isSocketId(s.valueStart(sid), s.valueLen(sid))) return refuse(400, "Invalid socket_id");
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
function deliver(app: App, r: EventRequest, now: u64): void {
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

function events(req: u32, app: App, ptr: usize, len: usize, now: u64): void {
  if (!body.scan(ptr, len)) return error(req, 400, "The body must be a JSON object");
  const r = unchecked(requests[0]);
  if (!readEvent(app, body, r)) return error(req, refusedStatus, refusedMessage);
  deliver(app, r, now);
  text.reset();
  if (!r.userCount && !r.subscriptionCount) {
    text.ascii("{}");
    return httpResponse(req, 200);
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
  httpResponse(req, 200);
}

function batchEvents(req: u32, app: App, ptr: usize, len: usize, now: u64): void {
  if (!body.scan(ptr, len)) return error(req, 400, "The body must be a JSON object");
  const b = body.find("batch");
  if (b < 0 || body.type(b) != JsonType.Array || !batch.begin(body.valueStart(b), body.valueLen(b))) {
    return error(req, 400, "batch must be an array of events");
  }
  // Validate everything first: a refused batch delivers nothing.
  let count = 0;
  let info = false;
  while (batch.next()) {
    if (count == MAX_BATCH) return error(req, 400, "Cannot batch-send more than 10 events at once");
    if (batch.type != JsonType.Object || !event.scan(batch.start, batch.len)) {
      return error(req, 400, "Each batch entry must be an event object");
    }
    const r = unchecked(requests[count]);
    if (!readEvent(app, event, r)) return error(req, refusedStatus, refusedMessage);
    if (r.channelsArray) return error(req, 400, "Batch events take a single channel each");
    info = info || r.userCount || r.subscriptionCount;
    count++;
  }
  for (let i = 0; i < count; i++) deliver(app, unchecked(requests[i]), now);
  text.reset();
  if (!info) {
    text.ascii("{}");
    return httpResponse(req, 200);
  }
  text.ascii('{"batch":[');
  for (let i = 0; i < count; i++) {
    if (i > 0) text.byte(0x2c);
    const r = unchecked(requests[i]);
    channelOf(r);
    writeChannelInfo(app, channelName.ptr, channelName.len, r, false);
  }
  text.ascii("]}");
  httpResponse(req, 200);
}

function listChannels(req: u32, app: App): void {
  const prefixAt = query.find("filter_by_prefix");
  const prefix: usize = prefixAt < 0 ? 0 : query.valuePtr(prefixAt);
  const prefixLen: usize = prefixAt < 0 ? 0 : query.valueLength(prefixAt);
  const userCount = query.lists("info", "user_count");
  if (userCount && !spanStartsWith(prefix, prefixLen, "presence-")) {
    return error(req, 400, "info=user_count needs filter_by_prefix=presence-");
  }
  text.reset();
  text.ascii('{"channels":{');
  let first = true;
  const channels = app.channels;
  for (let i = 0, n = channels.capacity; i < n; i++) {
    const ch = channels.valueAt(i);
    if (!ch || ch.clusterCount == 0 || ch.type == ChannelType.User) continue;
    const name = changetype<usize>(ch.name);
    const nameLen = <usize>ch.name.byteLength;
    if (prefixLen > 0 && (nameLen < prefixLen || memory.compare(name, prefix, prefixLen) != 0)) continue;
    if (!first) text.byte(0x2c);
    first = false;
    writeString(text, name, nameLen);
    text.ascii(":{");
    if (userCount) {
      text.ascii('"user_count":');
      text.decimal(ch.userCount);
    }
    text.byte(0x7d);
  }
  text.ascii("}}");
  httpResponse(req, 200);
}

function channelInfo(req: u32, app: App, now: u64): void {
  const name = segment.ptr;
  const nameLen = <usize>segment.len;
  const presence = spanStartsWith(name, nameLen, "presence-");
  const wantUsers = query.lists("info", "user_count");
  const wantSubs = query.lists("info", "subscription_count");
  const wantCache = query.lists("info", "cache");
  if (wantUsers && !presence) return error(req, 400, "user_count is only available for presence channels");
  const ch = app.channels.get(name, nameLen);
  const occupied = ch != null && ch.clusterCount > 0;
  text.reset();
  text.ascii(occupied ? '{"occupied":true' : '{"occupied":false');
  if (wantUsers) {
    text.ascii(',"user_count":');
    text.decimal(ch ? ch.userCount : 0);
  }
  if (wantSubs) {
    text.ascii(',"subscription_count":');
    text.decimal(ch ? ch.clusterCount : 0);
  }
  if (wantCache && ch) writeCache(app, ch, now);
  text.byte(0x7d);
  httpResponse(req, 200);
}

/** `"cache":{"data":"...","ttl":seconds}` while the cached event is fresh. */
function writeCache(app: App, ch: Channel, now: u64): void {
  const cached = ch.cached;
  if (!cached) return;
  const age = since(now, ch.cachedAt);
  if (age >= <u64>app.cacheTtl) return;
  text.ascii(',"cache":{"data":"');
  text.bytes(changetype<usize>(cached) + ch.cachedDataOffset, ch.cachedDataLen);
  text.ascii('","ttl":');
  text.decimal((<u64>app.cacheTtl - age) / 1000);
  text.byte(0x7d);
}

function channelUsers(req: u32, app: App): void {
  const name = segment.ptr;
  const nameLen = <usize>segment.len;
  if (!spanStartsWith(name, nameLen, "presence-")) return error(req, 400, "Users are only available for presence channels");
  text.reset();
  text.ascii('{"users":[');
  const ch = app.channels.get(name, nameLen);
  if (ch) {
    const members = ch.members!;
    let first = true;
    for (let i = 0, n = members.capacity; i < n; i++) {
      const m = members.valueAt(i);
      if (!m) continue;
      if (!first) text.byte(0x2c);
      first = false;
      text.ascii('{"id":"');
      text.bytes(changetype<usize>(m.key), m.key.byteLength);
      text.ascii('"}');
    }
  }
  text.ascii("]}");
  httpResponse(req, 200);
}

/**
 * Closes every connection of a user: those signed in as the user (Pusher)
 * and those in presence channels under that user id (Reverb).
 */

