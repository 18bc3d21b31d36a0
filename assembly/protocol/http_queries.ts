// Queries of the HTTP API: GET /channels, /channels/{name},
// /channels/{name}/users and /connections. Counts are the cluster's.

import { Channel, ChannelType } from "../channels/channel";
import { httpResponse, text } from "../frame/output";
import { writeString } from "../json/writer";
import { App } from "./app";
import { since } from "./clock";
import { HttpStatus } from "./codes";
import { error } from "./http_reply";
import { spanStartsWith } from "./names";
import { Query } from "./query";

/** GET /channels: the occupied channels, optionally by prefix, with user counts. */
export function listChannels(req: u32, app: App, query: Query): void {
  const prefixAt = query.find("filter_by_prefix");
  const prefix: usize = prefixAt < 0 ? 0 : query.valuePtr(prefixAt);
  const prefixLen: usize = prefixAt < 0 ? 0 : query.valueLength(prefixAt);
  const userCount = query.lists("info", "user_count");
  if (userCount && !spanStartsWith(prefix, prefixLen, "presence-")) {
    return error(req, HttpStatus.BadRequest, "info=user_count needs filter_by_prefix=presence-");
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
  httpResponse(req, HttpStatus.OK);
}

/** GET /channels/{name}: occupied, counts and the cached event the query asks for. */
export function channelInfo(req: u32, app: App, query: Query, name: usize, nameLen: usize, now: u64): void {
  const presence = spanStartsWith(name, nameLen, "presence-");
  const wantUsers = query.lists("info", "user_count");
  const wantSubs = query.lists("info", "subscription_count");
  const wantCache = query.lists("info", "cache");
  if (wantUsers && !presence) return error(req, HttpStatus.BadRequest, "user_count is only available for presence channels");
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
  httpResponse(req, HttpStatus.OK);
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

/** GET /channels/{name}/users: the ids of a presence channel's members. */
export function channelUsers(req: u32, app: App, name: usize, nameLen: usize): void {
  if (!spanStartsWith(name, nameLen, "presence-")) {
    return error(req, HttpStatus.BadRequest, "Users are only available for presence channels");
  }
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
  httpResponse(req, HttpStatus.OK);
}

/** GET /connections: the app's connections on this node. */
export function connectionCount(req: u32, app: App): void {
  text.reset();
  text.ascii('{"connections":');
  text.decimal(app.connections);
  text.byte(0x7d);
  httpResponse(req, HttpStatus.OK);
}
