// User sign-in (`pusher:signin`), server-to-user delivery and watchlists.

import { bytesEqual, copyBytes } from "../channels/bytemap";
import { ByteBuffer } from "../frame/buffer";
import { broadcast, relayUser, send, text } from "../frame/output";
import { DecodedString } from "../json/decoded";
import { ArrayScanner, JsonType, ObjectScanner, unescapeString } from "../json/scanner";
import { writeStringContent } from "../json/writer";
import { App, apps, RemoteUser, User } from "./app";
import { signBegin, signBytes, signMatches, signUserSeparator } from "./auth";
import { heldSignIn, relaySignIn } from "./cluster";
import { CloseCode } from "./codes";
import { Connection, connectionById } from "./connection";
import { sendError } from "./reply";

const data = new ObjectScanner();
const userData = new ObjectScanner();
const watchlist = new ArrayScanner();
const userDataText = new ByteBuffer(1024);
const inner = new ByteBuffer(256);
const authText = new DecodedString();

// @ts-ignore: decorator
@inline const MAX_WATCHLIST: i32 = 100;

/**
 * Handles `pusher:signin` whose `data` member spans `ptr..ptr+len`. Returns
 * null when the connection is signed in (or told it already is, as another
 * user), else why the sign-in is refused: the caller then ends the connection
 * with 4009.
 */
export function signin(conn: Connection, ptr: usize, len: usize): string | null {
  const app = conn.app;
  if (!data.scan(ptr, len)) return "Sign-in data must be an object with auth and user_data";
  const a = data.find("auth");
  const u = data.find("user_data");
  if (a < 0 || u < 0 || data.type(a) != JsonType.String || data.type(u) != JsonType.String) {
    return "Sign-in data must be an object with auth and user_data";
  }
  userDataText.reset();
  const n = unescapeString(data.valueStart(u), data.valueLen(u), userDataText.ensure(<u32>data.valueLen(u)));
  if (n < 0) return "user_data must be a JSON string";
  userDataText.len = <u32>n;

  signBegin(app);
  signBytes(changetype<usize>(conn.socketId), conn.socketId.byteLength);
  signUserSeparator();
  signBytes(userDataText.ptr, userDataText.len);
  authText.set(data.valueStart(a), data.valueLen(a), data.valueEscaped(a));
  if (!signMatches(app, authText.ptr, authText.len)) return "Invalid signature";

  if (!userData.scan(userDataText.ptr, userDataText.len)) return "user_data must be a JSON object";
  const i = userData.find("id");
  if (i < 0 || userData.type(i) != JsonType.String || userData.valueLen(i) == 0) {
    return "user_data must have a non-empty string id";
  }
  const idPtr = userData.valueStart(i);
  const idLen = userData.valueLen(i);
  const current = conn.user;
  if (current) {
    if (!bytesEqual(current.id, idPtr, idLen)) {
      sendError(conn.id, CloseCode.Unauthorized, "The connection is already signed in as another user");
      return null;
    }
  } else {
    signInAs(conn, idPtr, idLen);
  }
  conn.authorized = true;

  text.reset();
  text.ascii('{"event":"pusher:signin_success","data":{"user_data":"');
  text.bytes(data.valueStart(u), <u32>data.valueLen(u));
  text.ascii('"}}');
  send(conn.id);

  const w = userData.find("watchlist");
  if (w >= 0 && conn.watchlist == null) watch(conn, userData.valueStart(w), userData.valueLen(w), userData.type(w));
  return null;
}

function signInAs(conn: Connection, idPtr: usize, idLen: usize): void {
  const app = conn.app;
  let user = app.users.get(idPtr, idLen);
  const first = user == null;
  if (!user) {
    user = new User(copyBytes(idPtr, idLen));
    app.users.set(idPtr, idLen, user);
  }
  conn.user = user;
  conn.userIndex = user.connections.push(conn.id);
  if (!first) return;
  if (app.relay) relaySignIn(app, user.id, true);
  if (!onlineElsewhere(app, idPtr, idLen)) notifyWatchers(app, user.id, true);
}

/** Whether user `id` is signed in on another node. */
function onlineElsewhere(app: App, ptr: usize, len: usize): bool {
  const r = app.remoteUsers.get(ptr, len);
  return r != null && r.nodes.length > 0;
}

/** Whether user `id` is signed in here or on another node. */
function signedInAnywhere(app: App, id: ArrayBuffer): bool {
  const ptr = changetype<usize>(id);
  return app.users.get(ptr, id.byteLength) != null || onlineElsewhere(app, ptr, id.byteLength);
}

/**
 * Reads the rest of a UserOnline or UserOffline relay record from node
 * `node` (after its app id): the watchers here hear of a user who came
 * online, or went offline, everywhere. False if it is malformed.
 */
export function remoteUser(app: App, node: u32, isOnline: bool, ptr: usize, len: usize): bool {
  if (len == 0) return false;
  if (isOnline) {
    userOnNode(app, node, ptr, len);
    return true;
  }
  const r = app.remoteUsers.get(ptr, len);
  if (r) leaveUser(app, r, node);
  return true;
}

/**
 * Records that user `ptr[0..len)` is signed in on node `node`, telling the
 * watchers if it was signed in nowhere; returns the user.
 */
export function userOnNode(app: App, node: u32, ptr: usize, len: usize): RemoteUser {
  const before = app.users.get(ptr, len) != null || onlineElsewhere(app, ptr, len);
  let r = app.remoteUsers.get(ptr, len);
  if (!r) {
    r = new RemoteUser(copyBytes(ptr, len));
    app.remoteUsers.set(ptr, len, r);
  }
  if (r.nodes.includes(node)) return r;
  r.nodes.push(node);
  heldSignIn(app, node, r.id, true);
  if (!before) notifyWatchers(app, r.id, true);
  return r;
}

/**
 * Signs out on node `node` every user held as signed in there whose mark is
 * not `mark`: a repair listed the node's users, and not these.
 */
export function usersNotListed(app: App, node: u32, mark: u32): void {
  signOutOn(app, node, true, mark);
}

/** Signs out on node `node` the users held as signed in there (when `unmarkedOnly`, those whose mark is not `mark`). */
function signOutOn(app: App, node: u32, unmarkedOnly: bool, mark: u32): void {
  // Collected first: leaving deletes from the map being walked.
  const gone = new Array<RemoteUser>();
  for (let i = 0, c = app.remoteUsers.capacity; i < c; i++) {
    const r = app.remoteUsers.valueAt(i);
    if (r && !(unmarkedOnly && r.mark == mark) && r.nodes.includes(node)) gone.push(r);
  }
  for (let i = 0; i < gone.length; i++) leaveUser(app, unchecked(gone[i]), node);
}

/** Drops `node` from the nodes of remote user `r`; tells the watchers if it was its last anywhere. */
function leaveUser(app: App, r: RemoteUser, node: u32): void {
  const k = r.nodes.indexOf(node);
  if (k < 0) return;
  unchecked((r.nodes[k] = r.nodes[r.nodes.length - 1]));
  r.nodes.pop();
  heldSignIn(app, node, r.id, false);
  if (r.nodes.length > 0) return;
  app.remoteUsers.delete(changetype<usize>(r.id), r.id.byteLength);
  if (!signedInAnywhere(app, r.id)) notifyWatchers(app, r.id, false);
}

/** Node `node` is gone: its users go offline where it was their last node. */
export function usersGone(node: u32): void {
  for (let a = 0, n = apps.length; a < n; a++) signOutOn(unchecked(apps[a]), node, false, 0);
}

/** Relays every user signed in here, for nodes that lost or never had them. */
export function syncUsers(): void {
  for (let a = 0, n = apps.length; a < n; a++) {
    const app = unchecked(apps[a]);
    if (!app.relay) continue;
    for (let i = 0, c = app.users.capacity; i < c; i++) {
      const u = app.users.valueAt(i);
      if (u) relayUser(true, changetype<usize>(app.id), app.id.byteLength, changetype<usize>(u.id), u.id.byteLength);
    }
  }
}

/** Forgets a closing connection's user and watchlist. */
export function signOut(conn: Connection): void {
  const app = conn.app;
  // Watchlist first: a connection watching its own user is closing, and must
  // not be told that the user went offline.
  const list = conn.watchlist;
  if (list) {
    for (let i = 0, n = list.length; i < n; i++) {
      const id = unchecked(list[i]);
      const watchers = app.watchers.get(changetype<usize>(id), id.byteLength);
      if (!watchers) continue;
      const k = watchers.indexOf(conn.id);
      if (k >= 0) {
        unchecked((watchers[k] = watchers[watchers.length - 1]));
        watchers.pop();
      }
      if (watchers.length == 0) app.watchers.delete(changetype<usize>(id), id.byteLength);
    }
    conn.watchlist = null;
  }
  const user = conn.user;
  if (user) {
    const ids = user.connections;
    const last = ids.count - 1;
    if (conn.userIndex != last) {
      const moved = connectionById(load<u32>(ids.ptr + (<usize>last << 2)));
      if (moved) moved.userIndex = conn.userIndex;
    }
    ids.swapRemove(conn.userIndex);
    conn.user = null;
    if (ids.count == 0) {
      app.users.delete(changetype<usize>(user.id), user.id.byteLength);
      ids.free();
      if (app.relay) relaySignIn(app, user.id, false);
      if (!onlineElsewhere(app, changetype<usize>(user.id), user.id.byteLength)) notifyWatchers(app, user.id, false);
    }
  }
}

/** Registers a watchlist (an array of user ids) and reports who is online now. */
function watch(conn: Connection, ptr: usize, len: usize, type: JsonType): void {
  const app = conn.app;
  if (type != JsonType.Array || !watchlist.begin(ptr, len)) {
    sendError(conn.id, CloseCode.WatchlistRefused, "watchlist must be an array of user ids");
    return;
  }
  const list = new Array<ArrayBuffer>();
  let over = false;
  while (watchlist.next()) {
    if (watchlist.type != JsonType.String && watchlist.type != JsonType.Number) continue;
    if (list.length == MAX_WATCHLIST) {
      over = true;
      break;
    }
    if (listed(list, watchlist.start, watchlist.len)) continue;
    const id = copyBytes(watchlist.start, watchlist.len);
    list.push(id);
    let watchers = app.watchers.get(watchlist.start, watchlist.len);
    if (!watchers) {
      watchers = new Array<u32>();
      app.watchers.set(watchlist.start, watchlist.len, watchers);
    }
    watchers.push(conn.id);
  }
  conn.watchlist = list;
  if (over) {
    sendError(conn.id, CloseCode.WatchlistRefused, "Watchlist limit exceeded: only the first 100 user ids are watched");
  }

  beginWatchlistEvent(true);
  let online = 0;
  for (let i = 0, n = list.length; i < n; i++) {
    const id = unchecked(list[i]);
    if (!signedInAnywhere(app, id)) continue;
    if (online++ > 0) inner.byte(0x2c);
    inner.byte(0x22);
    inner.bytes(changetype<usize>(id), id.byteLength);
    inner.byte(0x22);
  }
  if (online == 0) return;
  endWatchlistEvent();
  send(conn.id);
}

function listed(list: Array<ArrayBuffer>, ptr: usize, len: usize): bool {
  for (let i = 0, n = list.length; i < n; i++) {
    if (bytesEqual(unchecked(list[i]), ptr, len)) return true;
  }
  return false;
}

/** Tells the watchers of `id` that the user came online or went offline. */
function notifyWatchers(app: App, id: ArrayBuffer, online: bool): void {
  const watchers = app.watchers.get(changetype<usize>(id), id.byteLength);
  if (!watchers || watchers.length == 0) return;
  beginWatchlistEvent(online);
  inner.byte(0x22);
  inner.bytes(changetype<usize>(id), id.byteLength);
  inner.byte(0x22);
  endWatchlistEvent();
  broadcast(watchers.dataStart, <u32>watchers.length, 0);
}

function beginWatchlistEvent(online: bool): void {
  inner.reset();
  inner.ascii(online ? '{"events":[{"name":"online","user_ids":[' : '{"events":[{"name":"offline","user_ids":[');
}

function endWatchlistEvent(): void {
  inner.ascii("]}]}");
  text.reset();
  text.ascii('{"event":"pusher_internal:watchlist_events","data":"');
  writeStringContent(text, inner.ptr, inner.len);
  text.ascii('"}');
}
