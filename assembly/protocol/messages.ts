// Messages from clients: one text frame each, dispatched on its `event`.

import { DecodedString } from "../json/decoded";
import { JsonType, nestedTooDeeply, ObjectScanner } from "../json/scanner";
import { clientEvent } from "./client_events";
import { CloseCode } from "./codes";
import { Connection } from "./connection";
import { terminate } from "./lifecycle";
import { spanEquals, spanStartsWith } from "./names";
import { sendError, sendPong } from "./reply";
import { signin } from "./signin";
import { subscribe, unsubscribe } from "./subscribe";

const msg = new ObjectScanner();
const event = new DecodedString();

/** Handles one message; a refused message never ends the connection. */
export function handleMessage(conn: Connection, ptr: usize, len: usize, now: u64): void {
  conn.touch(now);
  if (<u32>len > conn.app.maxMessageSize) {
    messageTooLarge(conn);
    return;
  }
  if (!msg.scan(ptr, len)) {
    if (nestedTooDeeply()) {
      sendError(conn.id, CloseCode.InvalidMessage, "Invalid message format: JSON nested too deeply (more than 32 levels)");
    } else {
      sendError(conn.id, CloseCode.InvalidMessage, "Invalid message format: expected a JSON object");
    }
    return;
  }
  const e = msg.find("event");
  if (e < 0 || msg.type(e) != JsonType.String) {
    sendError(conn.id, CloseCode.InvalidMessage, "Invalid message format: the event member is missing");
    return;
  }
  // Compared decoded: "pusher\u003aping" is a ping.
  event.set(msg.valueStart(e), msg.valueLen(e), msg.valueEscaped(e));
  const name = event.ptr;
  const nameLen = event.len;
  if (spanStartsWith(name, nameLen, "client-")) {
    clientEvent(conn, msg, e, now);
    return;
  }
  if (spanEquals(name, nameLen, "pusher:ping")) {
    sendPong(conn.id);
    return;
  }
  if (spanEquals(name, nameLen, "pusher:pong")) return;
  const d = msg.find("data");
  const dataStart = msg.valueStart(d);
  const dataLen = msg.valueLen(d);
  if (spanEquals(name, nameLen, "pusher:subscribe")) {
    subscribe(conn, dataStart, dataLen, now);
  } else if (spanEquals(name, nameLen, "pusher:unsubscribe")) {
    unsubscribe(conn, dataStart, dataLen, now);
  } else if (spanEquals(name, nameLen, "pusher:signin")) {
    const refusal = signin(conn, dataStart, dataLen);
    if (refusal != null) terminate(conn, CloseCode.Unauthorized, refusal, now, "Connection is unauthorized");
  } else {
    sendError(conn.id, CloseCode.InvalidMessage, "Invalid message format: unsupported event");
  }
}

/** A message over the app's `max_message_size`: refused, connection kept. */
export function messageTooLarge(conn: Connection): void {
  sendError(conn.id, CloseCode.MessageTooLarge, "Message exceeds max_message_size");
}
