// What another node relays through the host's broker: events, delivered to
// this node's subscribers exactly as the origin node delivered them to its
// own, terminate_connections, presence members and subscription counts
// (cluster.ts), and the digests that repair what was lost (entropy.ts).
// Nothing received is relayed again, except a State answering a Want.

import { Relay, RELAY_CACHEABLE, text } from "../frame/output";
import { JsonType, ObjectScanner } from "../json/scanner";
import { isValidUtf8 } from "../json/utf8";
import { appById } from "./app";
import { remoteCount, remoteMember } from "./cluster";
import { remoteDigest, remoteState, remoteWant } from "./entropy";
import { remoteUser } from "./signin";
import { terminateUser } from "./lifecycle";
import { isValidChannelName } from "./names";
import { deliver } from "./publish";
import { fields } from "./record";

const message = new ObjectScanner();

/**
 * Handles a relay record from node `node`, a number the host gives each
 * other node (assembly/README.md). Returns false, having done nothing, when
 * the record is malformed: it came over the network and is checked like any
 * other input.
 */
export function remote(node: u32, ptr: usize, len: usize, now: u64): bool {
  const f = fields.begin(ptr, len);
  if (!f.bytes(1)) return false;
  const kind = load<u8>(f.start);
  if (!f.str16()) return false;
  const app = appById(f.start, f.len);
  if (!app) return false;
  if (kind == Relay.Terminate) {
    if (!f.str16() || f.len == 0) return false;
    terminateUser(app, f.start, f.len, now);
    return true;
  }
  if (kind == Relay.MemberAdded || kind == Relay.MemberRemoved) {
    return remoteMember(app, node, kind == Relay.MemberAdded, f);
  }
  if (kind == Relay.ChannelCount) return remoteCount(app, node, f, now);
  if (kind == Relay.UserOnline || kind == Relay.UserOffline) {
    if (!f.str16()) return false;
    const user = f.start, userLen = f.len;
    f.rest();
    if (f.len != 0) return false;
    return remoteUser(app, node, kind == Relay.UserOnline, user, userLen);
  }
  if (kind == Relay.Digest) return remoteDigest(app, node, f);
  if (kind == Relay.Want) return remoteWant(app, f);
  if (kind == Relay.State) return remoteState(app, node, f, now);
  if (kind != Relay.Event || !f.str16()) return false;
  const channel = f.start, channelLen = f.len;
  if (!f.str16()) return false;
  const sid = f.start, sidLen = f.len;
  if (!f.bytes(1)) return false;
  const cacheable = (load<u8>(f.start) & RELAY_CACHEABLE) != 0;
  f.rest();
  const msg = f.start, msgLen = f.len;

  if (!isValidChannelName(channel, channelLen)) return false;
  // Clients get these bytes as they are: only a JSON object with a non-empty
  // event name goes out (pusher-js drops anything else). A cache channel keeps the
  // content of its `data` string.
  if (!message.scan(msg, msgLen) || !isValidUtf8(msg, msgLen)) return false;
  const e = message.find("event");
  if (message.type(e) != JsonType.String || message.valueLen(e) == 0) return false;
  const d = message.find("data");
  if (cacheable && message.type(d) != JsonType.String) return false;

  text.reset();
  text.bytes(msg, <u32>msgLen);
  const dataOffset = cacheable ? <u32>(message.valueStart(d) - msg) : 0;
  const dataLen = cacheable ? <u32>message.valueLen(d) : 0;
  deliver(app, channel, channelLen, sid, sidLen, cacheable, dataOffset, dataLen, now);
  return true;
}
