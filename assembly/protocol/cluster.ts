// Presence and subscription counts across nodes. Each node relays when a
// user becomes present on a presence channel here (first connection) and
// when it leaves (last one), and its number of subscriptions to a channel
// whenever it changes; the others keep them on the sending node's number.
// A user is a member while it is present on any node, so the roster,
// member_added / member_removed, user counts and the member limit hold for
// the whole cluster, and so do subscription counts and occupied channels.
// The host numbers the other nodes, tells when one is gone (its members and
// subscriptions leave) and asks for a SYNC when a node needs everyone's.
// What a node relayed, and what is held for each other node, is also kept
// as a digest (channels/digest.ts) that entropy.ts compares and repairs.

import { copyBytes } from "../channels/bytemap";
import { Channel, ChannelType, Member } from "../channels/channel";
import { channelHash, Digest, memberElement, userElement, USERS_HASH } from "../channels/digest";
import { relayChannelCount, relayMember as relayMemberRecord, relayUser } from "../frame/output";
import { isStringContent, validateValue } from "../json/scanner";
import { isValidUtf8 } from "../json/utf8";
import { App, apps } from "./app";
import { dropIfVacant, memberEvent, subscriptionCountChanged } from "./channel_events";
import { channelType, isCacheChannel, isValidChannelName, spanStartsWith } from "./names";
import { Fields } from "./record";
import { hookMember, hookOccupancy } from "./webhooks";

/** Tells the other nodes that `m` joined (`added`) or left `channel` here. */
export function relayMember(app: App, channel: Channel, m: Member, added: bool): void {
  writeMember(app, channel, m, added);
  const h = channelHash(channel.name);
  app.digest.toggle(h, memberElement(h, m.key));
}

/** Tells the other nodes how many subscriptions `channel` has here; it had `before`. */
export function relayCount(app: App, channel: Channel, before: u32): void {
  writeCount(app, channel);
  app.digest.count(channelHash(channel.name), before, channel.subscriptionCount);
}

/** Tells the other nodes that user `id` signed in here (first connection) or out (last one). */
export function relaySignIn(app: App, id: ArrayBuffer, online: bool): void {
  relayUser(online, changetype<usize>(app.id), app.id.byteLength, changetype<usize>(id), id.byteLength);
  app.digest.toggle(USERS_HASH, userElement(id));
}

/** Keeps in the digest held for `node` that user `id` signed in there (`online`) or out. */
export function heldSignIn(app: App, node: u32, id: ArrayBuffer, online: bool): void {
  // A gone node's digest went with it (nodeGone): its users leave after.
  if (!online && !app.peers.has(node)) return;
  peerDigest(app, node).toggle(USERS_HASH, userElement(id));
}

function writeMember(app: App, channel: Channel, m: Member, added: bool): void {
  relayMemberRecord(
    added, changetype<usize>(app.id), app.id.byteLength, changetype<usize>(channel.name), channel.name.byteLength,
    changetype<usize>(m.key), m.key.byteLength, changetype<usize>(m.idJson), m.idJson.byteLength,
    changetype<usize>(m.info), m.info.byteLength,
  );
}

function writeCount(app: App, channel: Channel): void {
  relayChannelCount(
    changetype<usize>(app.id), app.id.byteLength, changetype<usize>(channel.name), channel.name.byteLength,
    channel.subscriptionCount,
  );
}

/** What is held here for node `node` of app `app`. */
function peerDigest(app: App, node: u32): Digest {
  if (app.peers.has(node)) return app.peers.get(node);
  const d = new Digest();
  app.peers.set(node, d);
  return d;
}

/**
 * Reads the rest of a ChannelCount relay record from node `node` (after its
 * app id) and applies it; false if it is malformed.
 */
export function remoteCount(app: App, node: u32, f: Fields, now: u64): bool {
  if (!f.str16()) return false;
  const name = f.start, nameLen = f.len;
  if (!f.bytes(4) || !isValidChannelName(name, nameLen)) return false;
  const count = load<u32>(f.start);
  const type = channelType(name, nameLen);
  if (type == ChannelType.User) return false;
  let channel = app.channels.get(name, nameLen);
  if (!channel) {
    if (count == 0) return true;
    channel = new Channel(copyBytes(name, nameLen), type, isCacheChannel(name, nameLen));
    app.channels.set(name, nameLen, channel);
  }
  countChanged(app, channel, node, count, now);
  return true;
}

/**
 * Node `node` has `count` subscriptions to `channel`: tell its subscribers
 * here, forget it when vacant. A channel vacated here too is reported as
 * this node's (webhooks.ts): its own last subscriber may have left at the
 * same moment, seen as remote on both nodes.
 */
export function countChanged(app: App, channel: Channel, node: u32, count: u32, now: u64): void {
  const held = channel.remoteCountOf(node);
  if (held == count) return;
  peerDigest(app, node).count(channelHash(channel.name), held, count);
  const before = channel.clusterCount;
  if (!channel.setRemoteCount(node, count)) return;
  if ((before == 0) != (channel.clusterCount == 0)) hookOccupancy(app, channel, before == 0, before != 0);
  if (channel.subscriptionCount > 0) subscriptionCountChanged(app, channel, now);
  else dropIfVacant(app, channel);
}

/**
 * Reads the rest of a MemberAdded or MemberRemoved relay record from node
 * `node` (after its app id) and applies it; false if it is malformed.
 */
export function remoteMember(app: App, node: u32, added: bool, f: Fields): bool {
  if (!f.str16()) return false;
  const name = f.start, nameLen = f.len;
  if (!f.str16() || f.len == 0 || f.len > 128) return false;
  const key = f.start, keyLen = f.len;
  // Rosters and the users API write the key between quotes as it is.
  if (!isStringContent(key, keyLen) || !isValidUtf8(key, keyLen)) return false;
  if (!isValidChannelName(name, nameLen) || !spanStartsWith(name, nameLen, "presence-")) return false;
  if (!added) {
    const channel = app.channels.get(name, nameLen);
    if (channel) leaveNode(app, channel, channel.members!.get(key, keyLen), node);
    return true;
  }
  if (!f.str16() || !validateValue(f.start, f.len) || !isValidUtf8(f.start, f.len)) return false;
  const idJson = f.start, idJsonLen = f.len;
  f.rest();
  if (f.len != 0 && (!validateValue(f.start, f.len) || !isValidUtf8(f.start, f.len))) return false;

  let channel = app.channels.get(name, nameLen);
  if (!channel) {
    channel = new Channel(copyBytes(name, nameLen), ChannelType.Presence, isCacheChannel(name, nameLen));
    app.channels.set(name, nameLen, channel);
  }
  joinNode(app, channel, node, key, keyLen, idJson, idJsonLen, f.start, f.len);
  return true;
}

/**
 * User `key` (`user_id` JSON `idJson`, `user_info` JSON `info`) is present
 * on `node`: it joins presence channel `channel` if it was present nowhere.
 * Returns the member.
 */
export function joinNode(
  app: App, channel: Channel, node: u32, key: usize, keyLen: usize,
  idJson: usize, idJsonLen: usize, info: usize, infoLen: usize,
): Member {
  const members = channel.members!;
  let m = members.get(key, keyLen);
  const fresh = !m;
  if (!m) {
    m = new Member(copyBytes(key, keyLen), copyBytes(idJson, idJsonLen), copyBytes(info, infoLen));
    members.set(key, keyLen, m);
  }
  if (m.addNode(node)) {
    const h = channelHash(channel.name);
    peerDigest(app, node).toggle(h, memberElement(h, m.key));
  }
  if (fresh) {
    memberEvent(channel, m, true, 0);
    hookMember(app, channel, m, true, false);
  }
  return m;
}

/**
 * Node `node` is gone: its subscriptions no longer count, and its users leave
 * every presence channel where it was their last node.
 */
export function nodeGone(node: u32, now: u64): void {
  for (let a = 0, n = apps.length; a < n; a++) {
    const app = unchecked(apps[a]);
    // Collected first: leaving deletes from the maps being walked.
    const channels = new Array<Channel>();
    for (let i = 0, c = app.channels.capacity; i < c; i++) {
      const ch = app.channels.valueAt(i);
      if (ch && (ch.remoteCount > 0 || ch.members != null)) channels.push(ch);
    }
    for (let i = 0; i < channels.length; i++) {
      const ch = unchecked(channels[i]);
      const members = ch.members;
      if (members) {
        const gone = new Array<Member>();
        for (let j = 0, c = members.capacity; j < c; j++) {
          const m = members.valueAt(j);
          if (m && m.nodes) gone.push(m);
        }
        for (let j = 0; j < gone.length; j++) leaveNode(app, ch, unchecked(gone[j]), node);
      }
      countChanged(app, ch, node, 0, now);
    }
    app.peers.delete(node);
  }
}

/** Relays every subscription count and member here, for nodes that lost or never had them. */
export function sync(): void {
  for (let a = 0, n = apps.length; a < n; a++) {
    const app = unchecked(apps[a]);
    if (!app.relay) continue;
    for (let i = 0, c = app.channels.capacity; i < c; i++) {
      const ch = app.channels.valueAt(i);
      if (!ch || ch.subscriptionCount == 0 || ch.type == ChannelType.User) continue;
      writeCount(app, ch);
      const members = ch.members;
      if (!members) continue;
      for (let j = 0, k = members.capacity; j < k; j++) {
        const m = members.valueAt(j);
        if (m && m.connections > 0) writeMember(app, ch, m, true);
      }
    }
  }
}

/**
 * `m` (if any) is no longer present on `node`; it leaves if that was its
 * last place, reported as this node's departure as in countChanged.
 */
export function leaveNode(app: App, channel: Channel, m: Member | null, node: u32): void {
  if (!m || !m.removeNode(node)) return;
  const h = channelHash(channel.name);
  peerDigest(app, node).toggle(h, memberElement(h, m.key));
  if (m.connections > 0 || m.remote) return;
  channel.members!.delete(changetype<usize>(m.key), m.key.byteLength);
  memberEvent(channel, m, false, 0);
  hookMember(app, channel, m, false, true);
  dropIfVacant(app, channel);
}
