// Frames the engine sends on its own account: pong, errors, subscription errors.

import { send, text } from "../frame/output";
import { writeString } from "../json/writer";

/** `{"event":"pusher:error","data":{"code":N,"message":"..."}}` */
export function sendError(conn: u32, code: u32, message: string): void {
  text.reset();
  text.ascii('{"event":"pusher:error","data":{"code":');
  text.decimal(code);
  text.ascii(',"message":"');
  text.ascii(message);
  text.ascii('"}}');
  send(conn);
}

/**
 * `{"event":"pusher:subscription_error","channel":...,"data":{"type":...,"error":...,"status":N}}`,
 * the shape pusher-js hands to the channel and Laravel Echo to `.error()`.
 */
export function sendSubscriptionError(
  conn: u32, channel: usize, channelLen: usize, type: string, error: string, status: u32,
): void {
  text.reset();
  text.ascii('{"event":"pusher:subscription_error","channel":');
  writeString(text, channel, channelLen);
  text.ascii(',"data":{"type":"');
  text.ascii(type);
  text.ascii('","error":"');
  text.ascii(error);
  text.ascii('","status":');
  text.decimal(status);
  text.ascii("}}");
  send(conn);
}

export function sendPong(conn: u32): void {
  text.reset();
  text.ascii('{"event":"pusher:pong","data":"{}"}');
  send(conn);
}

export function sendPing(conn: u32): void {
  text.reset();
  text.ascii('{"event":"pusher:ping","data":"{}"}');
  send(conn);
}
