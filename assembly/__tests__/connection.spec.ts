// Connection lifecycle through the engine ABI: handshake, unknown keys,
// ping/pong, refused messages, size limits, liveness, the sign-in timeout and
// shutdown.

import { Action, Event, Option } from "../abi";
import { process as engineProcess, reserve } from "../engine";
import {
  advance, batch, Batch, closeEntry, decodeActions, errorFrame, now, isSocketIdShape, newApp, newConnId, PING, PONG, rep, utf8,
  succeededFrame,
} from "./engine.include";

function handshake(socketId: string, activityTimeout: i32): string {
  return "{\"event\":\"pusher:connection_established\",\"data\":\"{\\\"socket_id\\\":\\\"" + socketId +
    "\\\",\\\"activity_timeout\\\":" + activityTimeout.toString() + "}\"}";
}

describe("handshake", () => {
  it("should configure an app without producing any action", () => {
    const app = newApp();
    expect(app.configured.length).toBe(0);
  });

  it("should send pusher:connection_established with the socket id and activity_timeout as a JSON string", () => {
    const app = newApp();
    const c = app.connect();
    expect(c.opened.length).toBe(1);
    expect(c.opened.list[0].kind).toBe(<u8>Action.Send);
    expect(c.opened.log(c.id)).toBe(handshake(c.socketId, 54));
  });

  it("should make socket ids of the form \\d+.\\d+ ending with the connection id", () => {
    const app = newApp();
    const c = app.connect();
    expect(isSocketIdShape(c.socketId)).toBe(true);
    expect(c.socketId.endsWith("." + c.id.toString())).toBe(true);
  });

  it("should give every connection a different socket id", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    const c = app.connect();
    expect(a.socketId).not.toBe(b.socketId);
    expect(b.socketId).not.toBe(c.socketId);
    expect(a.socketId).not.toBe(c.socketId);
  });

  it("should announce the configured activity_timeout", () => {
    const app = newApp([Option.ActivityTimeout, 30]);
    const c = app.connect();
    expect(c.opened.log(c.id)).toBe(handshake(c.socketId, 30));
  });

  it("should derive activity_timeout from ping_period when none is configured", () => {
    const app = newApp([Option.PingPeriod, 20000]);
    const c = app.connect();
    expect(c.opened.log(c.id)).toBe(handshake(c.socketId, 20));
  });

  it("should never announce an activity_timeout of 0", () => {
    const app = newApp([Option.PingPeriod, 500]);
    const c = app.connect();
    expect(c.opened.log(c.id)).toBe(handshake(c.socketId, 1));
  });

  it("should handle the events of one batch in order", () => {
    const app = newApp();
    const id = newConnId();
    const acts = batch()
      .open(id, app.key)
      .message(id, "{\"event\":\"pusher:subscribe\",\"data\":{\"auth\":\"\",\"channel\":\"batch-order\"}}")
      .message(id, "{\"event\":\"pusher:ping\",\"data\":{}}")
      .run();
    const lines = acts.log(id).split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0].startsWith("{\"event\":\"pusher:connection_established\"")).toBe(true);
    expect(lines[1]).toBe(succeededFrame("batch-order"));
    expect(lines[2]).toBe(PONG);
  });
});

describe("unknown app key", () => {
  it("should answer pusher:error 4001 and then close with 4001", () => {
    newApp();
    const id = newConnId();
    const acts = batch().open(id, "no-such-key").run();
    expect(acts.log(id)).toBe(
      errorFrame(4001, "Application does not exist") + "\n" + closeEntry(4001, "Application does not exist"),
    );
  });

  it("should not keep a connection it refused", () => {
    const app = newApp();
    const id = newConnId();
    batch().open(id, "no-such-key").run();
    expect(batch().message(id, "{\"event\":\"pusher:ping\",\"data\":{}}").run().length).toBe(0);
    expect(app.get("/connections", "").body()).toBe("{\"connections\":0}");
  });

  it("should not accept a key that only differs in case or length", () => {
    const app = newApp();
    const a = newConnId();
    const b = newConnId();
    const acts = batch().open(a, app.key.toUpperCase()).open(b, app.key + "x").run();
    expect(acts.closeCode(a)).toBe(4001);
    expect(acts.closeCode(b)).toBe(4001);
  });
});

describe("ping and pong", () => {
  it("should answer pusher:ping with pusher:pong", () => {
    const c = newApp().connect();
    expect(c.ping().log(c.id)).toBe(PONG);
  });

  it("should answer a pusher:ping without data", () => {
    const c = newApp().connect();
    expect(c.send("{\"event\":\"pusher:ping\"}").log(c.id)).toBe(PONG);
  });

  it("should not answer a client pusher:pong", () => {
    const c = newApp().connect();
    expect(c.send("{\"event\":\"pusher:pong\",\"data\":{}}").length).toBe(0);
  });
});

describe("refused messages", () => {
  it("should answer invalid JSON with pusher:error 4200 and keep the connection usable", () => {
    const c = newApp().connect();
    const acts = c.send("{\"event\":\"pusher:ping\"");
    expect(acts.log(c.id)).toBe(errorFrame(4200, "Invalid message format: expected a JSON object"));
    expect(acts.closeCode(c.id)).toBe(-1);
    expect(c.ping().log(c.id)).toBe(PONG);
  });

  it("should refuse a message that is JSON but not an object", () => {
    const c = newApp().connect();
    expect(c.send("[\"pusher:ping\"]").log(c.id)).toBe(errorFrame(4200, "Invalid message format: expected a JSON object"));
    expect(c.send("\"pusher:ping\"").log(c.id)).toBe(errorFrame(4200, "Invalid message format: expected a JSON object"));
  });

  it("should answer a message without event with pusher:error 4200 and keep the connection usable", () => {
    const c = newApp().connect();
    const acts = c.send("{\"data\":{\"channel\":\"x\"}}");
    expect(acts.log(c.id)).toBe(errorFrame(4200, "Invalid message format: the event member is missing"));
    expect(acts.closeCode(c.id)).toBe(-1);
    expect(c.subscribe("still-usable").log(c.id)).toBe(succeededFrame("still-usable"));
  });

  it("should refuse an event that is not a string", () => {
    const c = newApp().connect();
    expect(c.send("{\"event\":42}").log(c.id)).toBe(errorFrame(4200, "Invalid message format: the event member is missing"));
  });

  it("should answer an unknown pusher: event with pusher:error 4200 and keep the connection usable", () => {
    const c = newApp().connect();
    const acts = c.send("{\"event\":\"pusher:teleport\",\"data\":{}}");
    expect(acts.log(c.id)).toBe(errorFrame(4200, "Invalid message format: unsupported event"));
    expect(acts.closeCode(c.id)).toBe(-1);
    expect(c.ping().log(c.id)).toBe(PONG);
  });

  it("should refuse an event that is neither pusher: nor client-", () => {
    const c = newApp().connect();
    expect(c.send("{\"event\":\"hello\",\"data\":{}}").log(c.id)).toBe(errorFrame(4200, "Invalid message format: unsupported event"));
  });
});

describe("message size", () => {
  it("should refuse a message over max_message_size with pusher:error 4300 and keep the connection", () => {
    const c = newApp([Option.MaxMessageSize, 64]).connect();
    const ping = "{\"event\":\"pusher:ping\",\"data\":{}}";
    const acts = c.send(ping + rep(" ", 65 - ping.length));
    expect(acts.log(c.id)).toBe(errorFrame(4300, "Message exceeds max_message_size"));
    expect(acts.closeCode(c.id)).toBe(-1);
    expect(c.ping().log(c.id)).toBe(PONG);
  });

  it("should accept a message of exactly max_message_size", () => {
    const c = newApp([Option.MaxMessageSize, 64]).connect();
    const ping = "{\"event\":\"pusher:ping\",\"data\":{}}";
    expect(c.send(ping + rep(" ", 64 - ping.length)).log(c.id)).toBe(PONG);
  });

  it("should default max_message_size to 10 KB", () => {
    const c = newApp().connect();
    const ping = "{\"event\":\"pusher:ping\",\"data\":{}}";
    expect(c.send(ping + rep(" ", 10240 - ping.length)).log(c.id)).toBe(PONG);
    expect(c.send(ping + rep(" ", 10241 - ping.length)).log(c.id)).toBe(errorFrame(4300, "Message exceeds max_message_size"));
  });

  it("should answer a TOO_LARGE event with pusher:error 4300 and keep the connection", () => {
    const c = newApp().connect();
    const acts = batch().tooLarge(c.id, 1 << 20).run();
    expect(acts.log(c.id)).toBe(errorFrame(4300, "Message exceeds max_message_size"));
    expect(acts.closeCode(c.id)).toBe(-1);
    expect(c.ping().log(c.id)).toBe(PONG);
  });
});

describe("batch ABI", () => {
  it("should return no actions for a batch shorter than its 8-byte clock", () => {
    reserve(4);
    expect(engineProcess(4)).toBe(0);
    expect(engineProcess(0)).toBe(0);
  });

  it("should skip an unknown event kind and handle the records after it", () => {
    const c = newApp().connect();
    const acts = batch()
      .rawRecord(200, c.id, utf8("{\"event\":\"pusher:ping\"}"))
      .message(c.id, "{\"event\":\"pusher:ping\"}")
      .run();
    expect(acts.log(c.id)).toBe(PONG);
  });

  it("should handle the complete records of a batch whose last record is truncated", () => {
    const c = newApp().connect();
    const msg = utf8("{\"event\":\"pusher:ping\"}");
    const full = batch().message(c.id, "{\"event\":\"pusher:ping\"}");
    // Append a record header that promises more bytes than the batch holds.
    const truncated = new ArrayBuffer(9 + 4);
    store<u8>(changetype<usize>(truncated), 3);
    store<u32>(changetype<usize>(truncated), c.id, 1);
    store<u32>(changetype<usize>(truncated), <u32>msg.byteLength, 5);
    expect(full.appendRaw(truncated).run().log(c.id)).toBe(PONG);
  });

  it("should ignore a malformed APP record", () => {
    const bad = new ArrayBuffer(3);
    store<u16>(changetype<usize>(bad), 200);
    expect(batch().rawRecord(<u8>Event.App, 90, bad).run().length).toBe(0);
    const id = newConnId();
    expect(batch().open(id, "").run().closeCode(id)).toBe(4001);
  });

  it("should refuse a deeply nested message without harm", () => {
    const c = newApp().connect();
    const deep = "{\"event\":\"pusher:ping\",\"data\":" + rep("[", 5000) + rep("]", 5000) + "}";
    expect(c.send(deep).log(c.id)).toBe(errorFrame(4200, "Invalid message format: JSON nested too deeply (more than 32 levels)"));
    expect(c.ping().log(c.id)).toBe(PONG);
  });

  it("should refuse binary garbage without harm", () => {
    const c = newApp().connect();
    const junk = new ArrayBuffer(64);
    for (let i = 0; i < 64; i++) store<u8>(changetype<usize>(junk) + <usize>i, <u8>(i * 37 + 11));
    const acts = batch().rawRecord(<u8>Event.Message, c.id, junk).run();
    expect(acts.log(c.id)).toBe(errorFrame(4200, "Invalid message format: expected a JSON object"));
    expect(c.ping().log(c.id)).toBe(PONG);
  });
});

// The decoder's own checks must be live, or a malformed frame would pass unseen.
function actionBatch(kind: u8, id: u32, payload: Array<u8>): ArrayBuffer {
  const b = new ArrayBuffer(9 + payload.length);
  const p = changetype<usize>(b);
  store<u8>(p, kind);
  store<u32>(p, id, 1);
  store<u32>(p, <u32>payload.length, 5);
  for (let i = 0; i < payload.length; i++) store<u8>(p + 9 + <usize>i, payload[i]);
  return b;
}

const MASKED_FRAME = actionBatch(<u8>Action.Send, 1, [0x81, 0x82, 0, 0, 0, 0, 0x7b, 0x7d]);
const NOT_JSON_FRAME = actionBatch(<u8>Action.Send, 1, [0x81, 0x02, 0x7b, 0x7b]);
const GOOD_FRAME = actionBatch(<u8>Action.Send, 1, [0x81, 0x02, 0x7b, 0x7d]);

describe("action decoder self-checks", () => {
  it("should decode a well-formed text frame", () => {
    expect(decodeActions(changetype<usize>(GOOD_FRAME), <u32>GOOD_FRAME.byteLength).log(1)).toBe("{}");
  });

  it("should reject a masked server frame", () => {
    expect(() => { decodeActions(changetype<usize>(MASKED_FRAME), <u32>MASKED_FRAME.byteLength); }).toThrow();
  });

  it("should reject a frame whose payload is not JSON", () => {
    expect(() => { decodeActions(changetype<usize>(NOT_JSON_FRAME), <u32>NOT_JSON_FRAME.byteLength); }).toThrow();
  });
});

describe("connection ids", () => {
  it("should ignore events for connections it does not know", () => {
    newApp();
    const id = newConnId();
    const acts = batch()
      .message(id, "{\"event\":\"pusher:ping\",\"data\":{}}")
      .activity(id)
      .tooLarge(id, 100000)
      .closed(id)
      .run();
    expect(acts.length).toBe(0);
  });

  it("should forget a connection on CLOSED", () => {
    const app = newApp();
    const a = app.connect();
    app.connect();
    expect(app.get("/connections", "").body()).toBe("{\"connections\":2}");
    expect(a.close().length).toBe(0);
    expect(a.ping().length).toBe(0);
    expect(app.get("/connections", "").body()).toBe("{\"connections\":1}");
  });
});

describe("liveness", () => {
  it("should send pusher:ping once after ping_period of silence", () => {
    const c = newApp().connect();
    advance(53999);
    expect(batch().tick().run().log(c.id)).toBe("");
    advance(1);
    expect(batch().tick().run().log(c.id)).toBe(PING);
    advance(1000);
    expect(batch().tick().run().log(c.id)).toBe("");
  });

  it("should close with 4201 when no pong arrives within pong_wait", () => {
    const c = newApp().connect();
    advance(54000);
    expect(batch().tick().run().log(c.id)).toBe(PING);
    advance(5999);
    expect(batch().tick().run().log(c.id)).toBe("");
    advance(1);
    expect(batch().tick().run().log(c.id)).toBe(
      errorFrame(4201, "Pong reply not received in time") + "\n" + closeEntry(4201, "Pong reply not received in time"),
    );
    expect(c.ping().length).toBe(0);
  });

  it("should keep a connection that answers the ping with pusher:pong", () => {
    const c = newApp().connect();
    advance(54000);
    expect(batch().tick().run().log(c.id)).toBe(PING);
    advance(1000);
    expect(c.send("{\"event\":\"pusher:pong\",\"data\":{}}").length).toBe(0);
    advance(5000);
    expect(batch().tick().run().log(c.id)).toBe("");
    advance(48999);
    expect(batch().tick().run().log(c.id)).toBe("");
    advance(1);
    expect(batch().tick().run().log(c.id)).toBe(PING);
  });

  it("should count a WebSocket ping or pong frame (ACTIVITY) as activity", () => {
    const c = newApp().connect();
    advance(50000);
    expect(batch().activity(c.id).run().length).toBe(0);
    advance(4000);
    expect(batch().tick().run().log(c.id)).toBe("");
    advance(9999);
    expect(batch().tick().run().log(c.id)).toBe("");
    advance(40001);
    expect(batch().tick().run().log(c.id)).toBe(PING);
  });

  it("should count any message as activity", () => {
    const c = newApp().connect();
    advance(50000);
    c.subscribe("alive");
    advance(10000);
    expect(batch().tick().run().log(c.id)).toBe("");
  });

  it("should reset the pong wait when activity follows a ping", () => {
    const c = newApp().connect();
    advance(54000);
    expect(batch().tick().run().log(c.id)).toBe(PING);
    advance(3000);
    batch().activity(c.id).run();
    advance(3000);
    expect(batch().tick().run().closeCode(c.id)).toBe(-1);
  });

  it("should count a discarded oversize message (TOO_LARGE) as activity, like any frame", () => {
    const c = newApp().connect();
    advance(50000);
    batch().tooLarge(c.id, 1 << 20).run();
    advance(4000);
    expect(batch().tick().run().log(c.id)).toBe("");
  });

  it("should not close live connections when the wall clock steps back", () => {
    const c = newApp().connect();
    advance(10000);
    expect(c.ping().log(c.id)).toBe(PONG);
    // The host's wall clock is stepped back by 2 s (NTP): the next tick reads
    // a time before the connection's last message.
    const acts = new Batch(now() - 2000).tick().run();
    expect(acts.log(c.id)).toBe("");
    expect(c.ping().log(c.id)).toBe(PONG);
  });

  it("should use the app's ping_period and pong_wait", () => {
    const c = newApp([Option.PingPeriod, 2000, Option.PongWait, 3000]).connect();
    advance(1999);
    expect(batch().tick().run().log(c.id)).toBe("");
    advance(1);
    expect(batch().tick().run().log(c.id)).toBe(PING);
    advance(1000);
    expect(batch().tick().run().closeCode(c.id)).toBe(4201);
  });
});

describe("user_auth_timeout", () => {
  it("should close with 4009 a connection that stays unauthorized for user_auth_timeout", () => {
    const c = newApp([Option.UserAuthTimeout, 30000]).connect();
    advance(29999);
    expect(batch().tick().run().log(c.id)).toBe("");
    advance(1);
    expect(batch().tick().run().log(c.id)).toBe(
      errorFrame(4009, "Connection not authorized within timeout") + "\n" +
      closeEntry(4009, "Connection not authorized within timeout"),
    );
    expect(c.ping().length).toBe(0);
  });

  it("should not count a public subscription as authorization", () => {
    const c = newApp([Option.UserAuthTimeout, 30000]).connect();
    c.subscribe("public-only");
    advance(30000);
    expect(batch().tick().run().closeCode(c.id)).toBe(4009);
  });

  it("should keep a connection that subscribed to a private channel in time", () => {
    const c = newApp([Option.UserAuthTimeout, 30000]).connect();
    advance(10000);
    expect(c.subscribeSigned("private-in-time").log(c.id)).toBe(succeededFrame("private-in-time"));
    advance(20000);
    expect(batch().tick().run().closeCode(c.id)).toBe(-1);
    advance(20000);
    expect(batch().tick().run().closeCode(c.id)).toBe(-1);
  });

  it("should keep a connection that signed in in time", () => {
    const c = newApp([Option.UserAuthTimeout, 30000]).connect();
    advance(10000);
    c.signin("{\"id\":\"timely\"}");
    advance(25000);
    expect(batch().tick().run().closeCode(c.id)).toBe(-1);
  });

  it("should not close unauthorized connections when user_auth_timeout is 0 (the default)", () => {
    const c = newApp().connect();
    advance(50000);
    expect(batch().tick().run().log(c.id)).toBe("");
  });
});

// Last: shutdown closes every connection the module has opened.
describe("shutdown", () => {
  it("should close every connection of every app with 4200 and forget them", () => {
    const a = newApp();
    const b = newApp();
    const c1 = a.connect();
    const c2 = a.connect();
    const c3 = b.connect();
    c1.subscribe("news");
    c3.subscribe("news");
    const acts = batch().shutdown().run();
    const closing = closeEntry(4200, "Server is shutting down");
    expect(acts.log(c1.id)).toBe(closing);
    expect(acts.log(c2.id)).toBe(closing);
    expect(acts.log(c3.id)).toBe(closing);
    expect(c1.ping().length).toBe(0);
    expect(a.get("/connections", "").body()).toBe("{\"connections\":0}");
    expect(b.get("/connections", "").body()).toBe("{\"connections\":0}");
  });

  it("should leave nothing to close on a second shutdown", () => {
    const c = newApp().connect();
    batch().shutdown().run();
    expect(batch().shutdown().run().length).toBe(0);
    expect(c.ping().length).toBe(0);
  });
});
