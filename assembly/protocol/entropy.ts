// Anti-entropy between nodes. Redis Pub/Sub may lose any relay record, so a
// member_removed, a subscription count or a sign-out can go missing and stay
// wrong on the nodes that missed it. Each node keeps the digest of what it
// relayed (App.digest) and of what it holds for every other node
// (App.peers), both updated incrementally by cluster.ts. On each DIGEST
// event, every period set by the host, a node relays its digest of each app:
// one record, whatever the traffic. A node that receives a digest compares it
// with what it holds for the sender and, if some buckets differ, relays a
// Want naming the sender by its token and the buckets. The sender answers
// with one State record per bucket: its counts and present members on the
// channels of that bucket (and, in the bucket of USERS_ENTRY, its signed-in
// users), which every node applies in place of what it held for the sender
// there, adding the members, counts and users it missed and dropping the
// ones it kept too long. Records travel in order on one Redis channel, so a
// digest always follows the records it accounts for.

import { Channel, ChannelType } from "../channels/channel";
import { bytesEqual, copyBytes } from "../channels/bytemap";
import { bucketOf, channelHash, DIGEST_BUCKETS, hash64, mix64, USERS_ENTRY, USERS_HASH } from "../channels/digest";
import { relayDigest, relayState, relayWant } from "../frame/output";
import { isStringContent, validateValue } from "../json/scanner";
import { App, apps } from "./app";
import { countChanged, joinNode, leaveNode } from "./cluster";
import { channelType, isCacheChannel, isValidChannelName } from "./names";
import { Fields } from "./record";
import { userOnNode, usersNotListed } from "./signin";

/** This node's token: Want records name the node they ask by it. */
let token: u64 = 0;
/** Numbers the State records applied, to mark what each one listed. */
let repair: u32 = 0;
/** A second cursor, for the pass that applies a State record once checked. */
const entries = new Fields();

// @ts-ignore: decorator
@inline const MAX_KEY: usize = 128;

/** The bucket whose State records list the sender's signed-in users. */
const USERS_BUCKET: i32 = bucketOf(USERS_HASH);

/** Sets this node's token from the host's random seed. */
export function seedToken(lo: u32, hi: u32): void {
  token = mix64(((<u64>hi << 32) | <u64>lo) ^ 0x5851f42d4c957f2d);
}

/** DIGEST: relays this node's digest of every relaying app. */
export function digest(): void {
  for (let a = 0, n = apps.length; a < n; a++) {
    const app = unchecked(apps[a]);
    if (app.relay) relayDigest(changetype<usize>(app.id), app.id.byteLength, token, app.digest.buckets);
  }
}

/**
 * Reads the rest of a Digest record from node `node` and asks it for the
 * buckets that differ from what is held here; false if it is malformed.
 */
export function remoteDigest(app: App, node: u32, f: Fields): bool {
  if (!f.bytes(8)) return false;
  const sender = load<u64>(f.start);
  if (!f.bytes(<usize>DIGEST_BUCKETS * 8)) return false;
  const theirs = f.start;
  f.rest();
  if (f.len != 0) return false;
  const held = app.peers.has(node) ? app.peers.get(node) : null;
  let mask: u64 = 0;
  for (let b = 0; b < DIGEST_BUCKETS; b++) {
    const mine: u64 = held ? held.bucket(b) : 0;
    if (load<u64>(theirs + (<usize>b << 3)) != mine) mask |= (<u64>1) << <u64>b;
  }
  if (mask != 0) relayWant(changetype<usize>(app.id), app.id.byteLength, sender, mask);
  return true;
}

/**
 * Reads the rest of a Want record and, when it names this node, relays a
 * State record for each bucket it asks for; false if it is malformed.
 */
export function remoteWant(app: App, f: Fields): bool {
  if (!f.bytes(16)) return false;
  const asked = load<u64>(f.start);
  const mask = load<u64>(f.start, 8);
  f.rest();
  if (f.len != 0) return false;
  if (asked != token || !app.relay) return true;
  const lists = new Array<Array<Channel>>(DIGEST_BUCKETS);
  for (let b = 0; b < DIGEST_BUCKETS; b++) unchecked((lists[b] = []));
  for (let i = 0, c = app.channels.capacity; i < c; i++) {
    const ch = app.channels.valueAt(i);
    if (!ch || ch.subscriptionCount == 0 || ch.type == ChannelType.User) continue;
    const b = bucketOf(channelHash(ch.name));
    if ((mask >> <u64>b) & 1) unchecked(lists[b]).push(ch);
  }
  for (let b = 0; b < DIGEST_BUCKETS; b++) {
    if (((mask >> <u64>b) & 1) == 0) continue;
    relayState(changetype<usize>(app.id), app.id.byteLength, <u8>b, unchecked(lists[b]), b == USERS_BUCKET ? signedIn(app) : null);
  }
  return true;
}

/** The ids of the users signed in here. */
function signedIn(app: App): Array<ArrayBuffer> {
  const ids = new Array<ArrayBuffer>();
  for (let i = 0, c = app.users.capacity; i < c; i++) {
    const u = app.users.valueAt(i);
    if (u) ids.push(u.id);
  }
  return ids;
}

/**
 * Reads the rest of a State record from node `node` and makes what is held
 * here for that node in the record's bucket what the record lists; false,
 * having changed nothing, if it is malformed.
 */
export function remoteState(app: App, node: u32, f: Fields, now: u64): bool {
  if (!f.bytes(1)) return false;
  const bucket = <i32>load<u8>(f.start);
  if (bucket >= DIGEST_BUCKETS) return false;
  f.rest();
  const body = f.start, bodyLen = f.len;
  if (!checkState(body, bodyLen, bucket)) return false;

  const mark = ++repair;
  const e = entries.begin(body, bodyLen);
  while (e.remaining > 0) {
    e.str16();
    const name = e.start, nameLen = e.len;
    if (bytesEqual(USERS_ENTRY, name, nameLen)) {
      e.bytes(4);
      for (let i: u32 = 0, n = load<u32>(e.start); i < n; i++) {
        e.str16();
        userOnNode(app, node, e.start, e.len).mark = mark;
      }
      continue;
    }
    e.bytes(4);
    const count = load<u32>(e.start);
    e.bytes(4);
    const present = load<u32>(e.start);
    let ch = app.channels.get(name, nameLen);
    if (!ch) {
      ch = new Channel(copyBytes(name, nameLen), channelType(name, nameLen), isCacheChannel(name, nameLen));
      app.channels.set(name, nameLen, ch);
    }
    ch.mark = mark;
    for (let i: u32 = 0; i < present; i++) {
      e.str16();
      const key = e.start, keyLen = e.len;
      e.str16();
      const idJson = e.start, idJsonLen = e.len;
      e.str32();
      joinNode(app, ch, node, key, keyLen, idJson, idJsonLen, e.start, e.len).mark = mark;
    }
    countChanged(app, ch, node, count, now);
  }

  // What is held for the node in the bucket and the record did not list.
  const stale = new Array<Channel>();
  for (let i = 0, c = app.channels.capacity; i < c; i++) {
    const ch = app.channels.valueAt(i);
    if (ch && heldFor(ch, node) && bucketOf(channelHash(ch.name)) == bucket) stale.push(ch);
  }
  for (let i = 0, n = stale.length; i < n; i++) {
    const ch = unchecked(stale[i]);
    const members = ch.members;
    if (members) {
      const gone = new Array<ArrayBuffer>();
      for (let j = 0, c = members.capacity; j < c; j++) {
        const m = members.valueAt(j);
        if (m && m.mark != mark && m.onNode(node)) gone.push(m.key);
      }
      // Members first: the node's count keeps the channel until they have left.
      for (let j = 0, k = gone.length; j < k; j++) {
        const key = unchecked(gone[j]);
        leaveNode(app, ch, members.get(changetype<usize>(key), key.byteLength), node);
      }
    }
    if (ch.mark != mark) countChanged(app, ch, node, 0, now);
  }
  if (bucket == USERS_BUCKET) usersNotListed(app, node, mark);
  return true;
}

/** Whether node `node` has subscriptions or members on `ch`, as held here. */
function heldFor(ch: Channel, node: u32): bool {
  if (ch.remoteCountOf(node) > 0) return true;
  const members = ch.members;
  if (!members) return false;
  for (let j = 0, c = members.capacity; j < c; j++) {
    const m = members.valueAt(j);
    if (m && m.onNode(node)) return true;
  }
  return false;
}

/** Whether the `len` bytes at `ptr` are well-formed State entries, all in `bucket`. */
function checkState(ptr: usize, len: usize, bucket: i32): bool {
  const e = entries.begin(ptr, len);
  while (e.remaining > 0) {
    if (!e.str16()) return false;
    const name = e.start, nameLen = e.len;
    if (bytesEqual(USERS_ENTRY, name, nameLen)) {
      if (bucket != USERS_BUCKET || !e.bytes(4)) return false;
      for (let i: u32 = 0, n = load<u32>(e.start); i < n; i++) {
        if (!e.str16() || e.len == 0 || !isStringContent(e.start, e.len)) return false;
      }
      continue;
    }
    if (!isValidChannelName(name, nameLen) || bucketOf(hash64(name, nameLen)) != bucket) return false;
    const type = channelType(name, nameLen);
    if (type == ChannelType.User || !e.bytes(4) || load<u32>(e.start) == 0 || !e.bytes(4)) return false;
    const present = load<u32>(e.start);
    if (present > 0 && type != ChannelType.Presence) return false;
    for (let i: u32 = 0; i < present; i++) {
      if (!e.str16() || e.len == 0 || e.len > MAX_KEY) return false;
      if (!e.str16() || !validateValue(e.start, e.len)) return false;
      if (!e.str32() || (e.len != 0 && !validateValue(e.start, e.len))) return false;
    }
  }
  return true;
}
