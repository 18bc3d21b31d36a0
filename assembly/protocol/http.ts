// The signed Pusher HTTP API (REST), Reverb-compatible: this router
// authenticates a request (http_auth.ts) and hands it to publishing
// (http_publish.ts) or queries (http_queries.ts); it answers
// terminate_connections itself. The host passes the path from `/apps/` on,
// so a prefix added by a proxy never breaks signatures.

import { ByteBuffer } from "../frame/buffer";
import { httpResponse, relayTerminate, text } from "../frame/output";
import { appById } from "./app";
import { HttpStatus } from "./codes";
import { authenticate } from "./http_auth";
import { batchEvents, events } from "./http_publish";
import { channelInfo, channelUsers, connectionCount, listChannels } from "./http_queries";
import { error } from "./http_reply";
import { terminateUser } from "./lifecycle";
import { isValidChannelName, spanEquals, spanStartsWith } from "./names";
import { percentDecode, Query } from "./query";
import { fields } from "./record";

/** The request's query string, parsed by handleHttp() and passed to whoever reads it. */
const query = new Query();
/** A decoded path segment (channel name or user id), owned by handleHttp(). */
const segment = new ByteBuffer(256);

/** Handles one HTTP request record (see assembly/README.md). */
export function handleHttp(req: u32, ptr: usize, len: usize, now: u64): void {
  const f = fields.begin(ptr, len);
  if (!f.str16()) return error(req, HttpStatus.BadRequest, "Malformed request");
  const method = f.start, methodLen = f.len;
  if (!f.str16()) return error(req, HttpStatus.BadRequest, "Malformed request");
  const path = f.start, pathLen = f.len;
  if (!f.str32()) return error(req, HttpStatus.BadRequest, "Malformed request");
  const rawQuery = f.start, queryLen = f.len;
  if (!f.str32()) return error(req, HttpStatus.BadRequest, "Malformed request");
  const bodyPtr = f.start, bodyLen = f.len;

  // /apps/{app_id}/{route...}
  if (!spanStartsWith(path, pathLen, "/apps/")) return error(req, HttpStatus.NotFound, "Not found");
  const idStart = path + 6;
  let idEnd = idStart;
  while (idEnd < path + pathLen && load<u8>(idEnd) != 0x2f) idEnd++;
  const app = appById(idStart, idEnd - idStart);
  if (!app) return error(req, HttpStatus.NotFound, "No matching application for this id");
  const route = idEnd;
  const routeLen = path + pathLen - idEnd;

  if (!query.parse(rawQuery, queryLen)) return error(req, HttpStatus.BadRequest, "Malformed query string");
  const refusal = authenticate(app, query, method, methodLen, path, pathLen, bodyPtr, bodyLen, now);
  if (refusal != null) return error(req, HttpStatus.Unauthorized, refusal);

  const isPost = spanEquals(method, methodLen, "POST");
  const isGet = spanEquals(method, methodLen, "GET");
  if (spanEquals(route, routeLen, "/events")) {
    if (!isPost) return error(req, HttpStatus.MethodNotAllowed, "Method not allowed");
    return events(req, app, bodyPtr, bodyLen, now);
  }
  if (spanEquals(route, routeLen, "/batch_events")) {
    if (!isPost) return error(req, HttpStatus.MethodNotAllowed, "Method not allowed");
    return batchEvents(req, app, bodyPtr, bodyLen, now);
  }
  if (spanEquals(route, routeLen, "/channels")) {
    if (!isGet) return error(req, HttpStatus.MethodNotAllowed, "Method not allowed");
    return listChannels(req, app, query);
  }
  if (spanEquals(route, routeLen, "/connections")) {
    if (!isGet) return error(req, HttpStatus.MethodNotAllowed, "Method not allowed");
    return connectionCount(req, app);
  }
  if (spanStartsWith(route, routeLen, "/channels/")) {
    if (!isGet) return error(req, HttpStatus.MethodNotAllowed, "Method not allowed");
    const rest = route + 10;
    const restLen = routeLen - 10;
    let slash: usize = 0;
    while (slash < restLen && load<u8>(rest + slash) != 0x2f) slash++;
    segment.reset();
    if (!percentDecode(segment, rest, slash, false, false)) {
      return error(req, HttpStatus.BadRequest, "Malformed channel name");
    }
    if (!isValidChannelName(segment.ptr, segment.len)) return error(req, HttpStatus.BadRequest, "Invalid channel name");
    if (slash == restLen) return channelInfo(req, app, query, segment.ptr, segment.len, now);
    if (spanEquals(rest + slash, restLen - slash, "/users")) return channelUsers(req, app, segment.ptr, segment.len);
    return error(req, HttpStatus.NotFound, "Not found");
  }
  if (spanStartsWith(route, routeLen, "/users/") && spanEndsWith(route, routeLen, "/terminate_connections")) {
    if (!isPost) return error(req, HttpStatus.MethodNotAllowed, "Method not allowed");
    // "/users/terminate_connections" matches both ends with the slash shared:
    // the user id lies strictly between them, so check before subtracting.
    if (routeLen <= 7 + 22) return error(req, HttpStatus.BadRequest, "Malformed user id");
    segment.reset();
    if (!percentDecode(segment, route + 7, routeLen - 7 - 22, false, false) || segment.len == 0) {
      return error(req, HttpStatus.BadRequest, "Malformed user id");
    }
    terminateUser(app, segment.ptr, segment.len, now);
    if (app.relay) relayTerminate(changetype<usize>(app.id), app.id.byteLength, segment.ptr, segment.len);
    text.reset();
    text.ascii("{}");
    return httpResponse(req, HttpStatus.OK);
  }
  error(req, HttpStatus.NotFound, "Not found");
}

function spanEndsWith(ptr: usize, len: usize, s: string): bool {
  const n = <usize>s.length;
  return len >= n && spanStartsWith(ptr + len - n, n, s);
}
