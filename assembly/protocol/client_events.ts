// Client events (`client-*`): relayed to the other subscribers of a private
// or presence channel, never echoed, never cached, rate limited per connection,
// and relayed to the other nodes like any other event.

import { ChannelType } from "../channels/channel";
import { broadcast, relay, text } from "../frame/output";
import { DecodedString } from "../json/decoded";
import { JsonType, ObjectScanner } from "../json/scanner";
import { writeString } from "../json/writer";
import { CloseCode } from "./codes";
import { Connection } from "./connection";
import { MAX_NAME_LENGTH } from "./names";
import { sendError } from "./reply";
import { hookClientEvent } from "./webhooks";

const channelName = new DecodedString();
const eventName = new DecodedString();

/**
 * Relays the client event in `msg` (already scanned; `e` is its `event` member).
 */
export function clientEvent(conn: Connection, msg: ObjectScanner, e: i32, now: u64): void {
  const app = conn.app;
  if (!app.clientEvents) {
    sendError(conn.id, CloseCode.ClientEventRejected, "Client events are disabled for this app");
    return;
  }
  // The limit is on the name as decoded (RFC 8259 §7), not as escaped.
  eventName.set(msg.valueStart(e), msg.valueLen(e), msg.valueEscaped(e));
  if (eventName.len > MAX_NAME_LENGTH) {
    sendError(conn.id, CloseCode.ClientEventRejected, "Event names are at most 200 characters");
    return;
  }
  const c = msg.find("channel");
  if (c < 0 || msg.type(c) != JsonType.String) {
    sendError(conn.id, CloseCode.InvalidMessage, "Client events need a channel");
    return;
  }
  channelName.set(msg.valueStart(c), msg.valueLen(c), msg.valueEscaped(c));
  const sub = conn.subscription(channelName.ptr, channelName.len);
  if (!sub) {
    sendError(conn.id, CloseCode.Unauthorized, "The client is not a member of the specified channel");
    return;
  }
  const channel = sub.channel;
  if (channel.type != ChannelType.Private && channel.type != ChannelType.Presence) {
    sendError(conn.id, CloseCode.ClientEventRejected, "Client events are only accepted on private and presence channels");
    return;
  }
  if (!conn.takeToken(now)) {
    sendError(conn.id, CloseCode.ClientEventRejected, "Rate limit exceeded");
    return;
  }
  text.reset();
  text.ascii('{"event":');
  text.bytes(msg.rawStart(e), <u32>msg.rawLen(e));
  text.ascii(',"channel":');
  writeString(text, changetype<usize>(channel.name), channel.name.byteLength);
  text.ascii(',"data":');
  const d = msg.find("data");
  // Forwarded verbatim: whatever JSON the client sent is what the others get.
  if (d < 0) text.ascii("null");
  else text.bytes(msg.rawStart(d), <u32>msg.rawLen(d));
  const member = sub.member;
  if (member) {
    text.ascii(',"user_id":"');
    text.bytes(changetype<usize>(member.key), member.key.byteLength);
    text.byte(0x22);
  }
  text.byte(0x7d);
  broadcast(channel.subscribers.ptr, channel.subscriptionCount, conn.id);
  if (app.relay) {
    relay(
      changetype<usize>(app.id), app.id.byteLength, changetype<usize>(channel.name), channel.name.byteLength,
      changetype<usize>(conn.socketId), conn.socketId.byteLength, 0,
    );
  }
  hookClientEvent(
    app, channel, msg.rawStart(e), msg.rawLen(e), d < 0 ? 0 : msg.rawStart(d), d < 0 ? 0 : msg.rawLen(d),
    d >= 0 && msg.type(d) == JsonType.String, conn.socketId, member,
  );
}
