// The engine's exports: the whole ABI the Go host sees (assembly/README.md).
// One `process` call handles a batch of events and leaves a batch of actions.

import "./host";
import { Event } from "./abi";
import { ByteBuffer } from "./frame/buffer";
import { out, publishResult } from "./frame/output";
import { configureApp } from "./protocol/app";
import { nodeGone, sync } from "./protocol/cluster";
import { syncUsers, usersGone } from "./protocol/signin";
import { connectionById, seedSocketIds } from "./protocol/connection";
import { digest, seedToken } from "./protocol/entropy";
import { handleHttp } from "./protocol/http";
import { activity, closed, open, shutdown, tick } from "./protocol/lifecycle";
import { handleMessage, messageTooLarge } from "./protocol/messages";
import { nativePublish } from "./protocol/native";
import { remote } from "./protocol/remote";
import { authorized } from "./protocol/subscribe";

/** The number of subscriptions on this node, as a global the host reads without a call. */
export { subscriptionsActive } from "./channels/channel";

const input = new ByteBuffer(1 << 16);

// @ts-ignore: decorator
@inline const RECORD_HEADER: usize = 9;

/** Seeds the socket-id generator; called once after instantiation. */
export function init(seedLo: u32, seedHi: u32): void {
  seedSocketIds(seedLo, seedHi);
  seedToken(seedLo, seedHi);
}

/** Returns an input area of at least `n` bytes for the next batch. */
export function reserve(n: u32): usize {
  input.reset();
  input.ensure(n);
  return input.ptr;
}

/** Pointer to the actions written by the last `process`. */
export function output(): usize {
  return out.ptr;
}

/** Handles the `n`-byte event batch at the `reserve` pointer; returns the action batch length. */
export function process(n: u32): u32 {
  out.reset();
  if (n < 8 || n > input.cap) return 0;
  const base = input.ptr;
  const end = base + <usize>n;
  const now = load<u64>(base);
  let p = base + 8;
  while (p + RECORD_HEADER <= end) {
    const kind = load<u8>(p);
    const id = load<u32>(p, 1);
    const len = <usize>load<u32>(p, 5);
    const payload = p + RECORD_HEADER;
    if (payload + len > end) break;
    handle(kind, id, payload, len, now);
    p = payload + len;
  }
  return out.len;
}

function handle(kind: u8, id: u32, ptr: usize, len: usize, now: u64): void {
  switch (kind) {
    case Event.Message: {
      const conn = connectionById(id);
      if (conn) handleMessage(conn, ptr, len, now);
      break;
    }
    case Event.Open: open(id, ptr, len, now); break;
    case Event.Closed: closed(id, now); break;
    case Event.Activity: activity(id, now); break;
    case Event.TooLarge: {
      const conn = connectionById(id);
      if (conn) {
        conn.touch(now);
        messageTooLarge(conn);
      }
      break;
    }
    case Event.Http: handleHttp(id, ptr, len, now); break;
    case Event.Tick: tick(now); break;
    case Event.Publish: publishResult(id, nativePublish(ptr, len, now)); break;
    case Event.Remote: remote(id, ptr, len, now); break;
    case Event.NodeGone: nodeGone(id, now); usersGone(id); break;
    case Event.Sync: sync(); syncUsers(); break;
    case Event.Digest: digest(); break;
    case Event.App: configureApp(id, ptr, len); break;
    case Event.Shutdown: shutdown(now); break;
    case Event.AuthResult: {
      const conn = connectionById(id);
      if (conn) authorized(conn, ptr, len, now);
      break;
    }
  }
}
