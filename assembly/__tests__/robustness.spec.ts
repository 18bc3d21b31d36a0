// Hostile and unusual input through the engine ABI (issue 12): JSON escapes
// compared decoded, errors that echo names encoded once, nesting limits, the
// protocol version, per-connection subscription limits, and tables that give
// their memory back after a peak.

import { Action, Event, Option } from "../abi";
import { isValidUtf8 } from "../json/utf8";
import {
  batch, closeEntry, Conn, errorFrame, eventFrame, newApp, newConnId, PONG, q, rep, subscriptionErrorFrame,
  succeededFrame, TestApp,
} from "./engine.include";

const INVALID_NAME = "Channel names are 1 to 200 characters of [-a-zA-Z0-9_=@,.;]";
const LIMIT_REACHED = "The connection is subscribed to max_subscriptions channels already";

function subscribeRaw(c: Conn, channelJson: string): string {
  return c.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":" + channelJson + "}}").log(c.id);
}

/** The pusher:error and close a refused OPEN answers with. */
function refused(code: i32, message: string): string {
  return errorFrame(code, message) + "\n" + closeEntry(code, message);
}

function openWithQuery(app: TestApp, query: string): string {
  const id = newConnId();
  return batch().open(id, app.key, "", query).run().log(id);
}

describe("JSON escapes are decoded before comparison (RFC 8259 §7)", () => {
  it("should answer an escaped pusher:ping event name with a pong", () => {
    const c = newApp().connect();
    expect(c.send("{\"event\":\"pusher\\u003aping\",\"data\":{}}").log(c.id)).toBe(PONG);
  });

  it("should find an event member whose key is escaped", () => {
    const c = newApp().connect();
    expect(c.send("{\"\\u0065vent\":\"pusher:ping\",\"data\":{}}").log(c.id)).toBe(PONG);
    expect(c.send("{\"ev\\u0065nt\":\"pusher:ping\"}").log(c.id)).toBe(PONG);
  });

  it("should not take a key that decodes to another name for the event member", () => {
    const c = newApp().connect();
    expect(c.send("{\"\\u0065ventx\":\"pusher:ping\"}").log(c.id))
      .toBe(errorFrame(4200, "Invalid message format: the event member is missing"));
  });

  it("should subscribe to an escaped channel name and deliver HTTP events published to its plain name", () => {
    const app = newApp();
    const c = app.connect();
    expect(subscribeRaw(c, "\"esc\\u002dchannel\"")).toBe(succeededFrame("esc-channel"));
    const res = app.post("/events", "{\"name\":\"e\",\"channel\":\"esc-channel\",\"data\":\"d\"}");
    expect(res.status()).toBe(200);
    expect(res.log(c.id)).toBe(eventFrame("e", "esc-channel", "d"));
  });

  it("should accept escaped channel names in HTTP publishes, single and listed", () => {
    const app = newApp();
    const c = app.connect();
    c.subscribe("esc-a");
    const single = app.post("/events", "{\"name\":\"e\",\"channel\":\"esc\\u002da\",\"data\":\"1\"}");
    expect(single.status()).toBe(200);
    expect(single.log(c.id)).toBe(eventFrame("e", "esc-a", "1"));
    const listed = app.post("/events",
      "{\"name\":\"e\",\"channels\":[\"esc\\u002da\",\"other\"],\"data\":\"2\",\"info\":\"subscription_count\"}");
    expect(listed.status()).toBe(200);
    expect(listed.log(c.id)).toBe(eventFrame("e", "esc-a", "2"));
    expect(listed.body()).toBe("{\"channels\":{\"esc-a\":{\"subscription_count\":1},\"other\":{\"subscription_count\":0}}}");
    const batched = app.post("/batch_events", "{\"batch\":[{\"name\":\"e\",\"channel\":\"esc\\u002da\",\"data\":\"3\"}]}");
    expect(batched.status()).toBe(200);
    expect(batched.log(c.id)).toBe(eventFrame("e", "esc-a", "3"));
  });

  it("should still refuse a name whose decoded form is invalid", () => {
    const app = newApp();
    const res = app.post("/events", "{\"name\":\"e\",\"channel\":\"a\\u0020b\",\"data\":\"d\"}");
    expect(res.status()).toBe(400);
    expect(res.body()).toBe("{\"error\":\"Invalid channel name\",\"code\":400}");
  });

  it("should route client events and unsubscribes by the decoded channel name", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribeSigned("private-room");
    b.subscribeSigned("private-room");
    const ev = a.send("{\"event\":\"client-hi\",\"channel\":\"private\\u002droom\",\"data\":{}}");
    expect(ev.log(b.id)).toBe("{\"event\":\"client-hi\",\"channel\":\"private-room\",\"data\":{}}");
    a.send("{\"event\":\"pusher:unsubscribe\",\"data\":{\"channel\":\"private\\u002droom\"}}");
    const after = app.get("/channels/private-room", "info=subscription_count");
    expect(after.body()).toBe("{\"occupied\":true,\"subscription_count\":1}");
  });

  it("should accept an auth signature written with escapes", () => {
    const app = newApp();
    const c = app.connect();
    const auth = app.auth(c.socketId + ":private-x").replace(":", "\\u003a");
    const acts = c.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"private-x\",\"auth\":\"" + auth + "\"}}");
    expect(acts.log(c.id)).toBe(succeededFrame("private-x"));
  });
});

describe("pusher:subscription_error names the channel encoded exactly once", () => {
  it("should echo a NUL in a refused name as one \\u0000 escape", () => {
    const c = newApp().connect();
    expect(subscribeRaw(c, "\"a\\u0000b\"")).toBe("{\"event\":\"pusher:subscription_error\",\"channel\":\"a\\u0000b\"," +
      "\"data\":{\"type\":\"InvalidChannel\",\"error\":" + q(INVALID_NAME) + ",\"status\":400}}");
  });

  it("should echo quotes and backslashes in a refused name escaped once", () => {
    const c = newApp().connect();
    expect(subscribeRaw(c, "\"a\\\"b\\\\c\"")).toBe(subscriptionErrorFrame("a\"b\\c", "InvalidChannel", INVALID_NAME, 400));
  });
});

describe("nesting limit", () => {
  it("should accept a message nested 32 levels deep", () => {
    const c = newApp().connect();
    const msg = "{\"event\":\"pusher:ping\",\"data\":" + rep("[", 31) + rep("]", 31) + "}";
    expect(c.send(msg).log(c.id)).toBe(PONG);
  });

  it("should refuse 33 levels with a precise error and keep the connection", () => {
    const c = newApp().connect();
    const msg = "{\"event\":\"pusher:ping\",\"data\":" + rep("{\"a\":", 32) + "1" + rep("}", 32) + "}";
    const acts = c.send(msg);
    expect(acts.log(c.id)).toBe(errorFrame(4200, "Invalid message format: JSON nested too deeply (more than 32 levels)"));
    expect(acts.closeCode(c.id)).toBe(-1);
    expect(c.ping().log(c.id)).toBe(PONG);
  });

  it("should still call malformed JSON malformed after a too-deep message", () => {
    const c = newApp().connect();
    c.send("{\"event\":\"x\",\"data\":" + rep("[", 40) + rep("]", 40) + "}");
    expect(c.send("{\"event\":").log(c.id)).toBe(errorFrame(4200, "Invalid message format: expected a JSON object"));
  });
});

describe("protocol version", () => {
  it("should accept protocol 7 wherever it sits in the query", () => {
    const app = newApp();
    expect(openWithQuery(app, "protocol=7").startsWith("{\"event\":\"pusher:connection_established\"")).toBe(true);
    expect(openWithQuery(app, "client=js&version=8.4.0&protocol=7&flash=false")
      .startsWith("{\"event\":\"pusher:connection_established\"")).toBe(true);
  });

  it("should refuse an unsupported version with 4007 and close", () => {
    const app = newApp();
    expect(openWithQuery(app, "protocol=99")).toBe(refused(4007, "Unsupported protocol version"));
    expect(openWithQuery(app, "protocol=6&client=js")).toBe(refused(4007, "Unsupported protocol version"));
    expect(openWithQuery(app, "protocol=")).toBe(refused(4007, "Unsupported protocol version"));
    expect(openWithQuery(app, "protocol=7x")).toBe(refused(4007, "Unsupported protocol version"));
    expect(openWithQuery(app, "protocol=99999999999")).toBe(refused(4007, "Unsupported protocol version"));
  });

  it("should refuse a connection without a protocol version with 4008 and close", () => {
    const app = newApp();
    expect(openWithQuery(app, "")).toBe(refused(4008, "No protocol version supplied"));
    expect(openWithQuery(app, "client=js&version=8.4.0")).toBe(refused(4008, "No protocol version supplied"));
    expect(openWithQuery(app, "xprotocol=7")).toBe(refused(4008, "No protocol version supplied"));
  });

  it("should not count a refused connection", () => {
    const app = newApp();
    openWithQuery(app, "protocol=5");
    expect(app.get("/connections", "").body()).toBe("{\"connections\":0}");
  });
});

describe("max_subscriptions", () => {
  it("should refuse one subscription more than the limit with LimitReached, naming the channel", () => {
    const app = newApp([Option.MaxSubscriptions, 3]);
    const c = app.connect();
    for (let i = 0; i < 3; i++) expect(c.subscribe("ch-" + i.toString()).log(c.id)).toBe(succeededFrame("ch-" + i.toString()));
    expect(c.subscribe("ch-3").log(c.id)).toBe(subscriptionErrorFrame("ch-3", "LimitReached", LIMIT_REACHED, 4100));
    expect(app.get("/channels/ch-3", "").body()).toBe("{\"occupied\":false}");
  });

  it("should still confirm a channel the connection already has at the limit", () => {
    const app = newApp([Option.MaxSubscriptions, 2]);
    const c = app.connect();
    c.subscribe("a");
    c.subscribe("b");
    expect(c.subscribe("a").log(c.id)).toBe(succeededFrame("a"));
  });

  it("should make room again after an unsubscribe", () => {
    const app = newApp([Option.MaxSubscriptions, 2]);
    const c = app.connect();
    c.subscribe("a");
    c.subscribe("b");
    c.unsubscribe("a");
    expect(c.subscribe("c").log(c.id)).toBe(succeededFrame("c"));
  });

  it("should allow 1,000 subscriptions by default and refuse the 1,001st", () => {
    const app = newApp();
    const c = app.connect();
    const b = batch();
    for (let i = 0; i < 1000; i++) b.message(c.id, "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"d-" + i.toString() + "\"}}");
    const acts = b.run();
    expect(acts.frames(c.id).length).toBe(1000);
    expect(acts.log(c.id).includes("subscription_error")).toBe(false);
    expect(c.subscribe("d-1000").log(c.id)).toBe(subscriptionErrorFrame("d-1000", "LimitReached", LIMIT_REACHED, 4100));
  });

  it("should limit each connection on its own", () => {
    const app = newApp([Option.MaxSubscriptions, 1]);
    const a = app.connect();
    const b = app.connect();
    a.subscribe("x");
    expect(b.subscribe("x").log(b.id)).toBe(succeededFrame("x"));
  });
});

describe("a connection with many subscriptions", () => {
  it("should find, leave and clean up each of 500 channels", () => {
    const app = newApp();
    const c = app.connect();
    const other = app.connect();
    for (let i = 0; i < 500; i++) c.subscribeSigned("private-m" + i.toString());
    other.subscribeSigned("private-m250");
    // Lookups through the map: a client event on one channel, unsubscribes of half of them.
    const ev = c.send("{\"event\":\"client-x\",\"channel\":\"private-m250\",\"data\":{}}");
    expect(ev.log(other.id)).toBe("{\"event\":\"client-x\",\"channel\":\"private-m250\",\"data\":{}}");
    for (let i = 0; i < 500; i += 2) c.unsubscribe("private-m" + i.toString());
    expect(c.subscribeSigned("private-m1").log(c.id)).toBe(succeededFrame("private-m1"));
    expect(app.get("/channels/private-m0", "").body()).toBe("{\"occupied\":false}");
    expect(app.get("/channels/private-m1", "info=subscription_count").body())
      .toBe("{\"occupied\":true,\"subscription_count\":1}");
    // Down to a few: back to the scan, still consistent.
    for (let i = 1; i < 495; i += 2) c.unsubscribe("private-m" + i.toString());
    expect(c.subscribeSigned("private-m497").log(c.id)).toBe(succeededFrame("private-m497"));
    c.unsubscribe("private-m497");
    expect(app.get("/channels/private-m497", "").body()).toBe("{\"occupied\":false}");
    c.close();
    const left = app.get("/channels", "").body();
    expect(left).toBe("{\"channels\":{\"private-m250\":{}}}");
  });
});

describe("tables after a peak", () => {
  it("should list no channel and answer queries after 20,000 channels came and went", () => {
    const app = newApp();
    const conns = new Array<Conn>();
    for (let k = 0; k < 20; k++) {
      const c = app.connect();
      conns.push(c);
      const b = batch();
      for (let i = 0; i < 1000; i++) {
        b.message(c.id, "{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"p-" + k.toString() + "-" + i.toString() + "\"}}");
      }
      b.run();
    }
    expect(app.get("/channels/p-19-999", "").body()).toBe("{\"occupied\":true}");
    for (let k = 0; k < 20; k++) conns[k].close();
    batch().tick().run();
    expect(app.get("/channels", "").body()).toBe("{\"channels\":{}}");
    const c = app.connect();
    expect(c.subscribe("p-0-0").log(c.id)).toBe(succeededFrame("p-0-0"));
    expect(app.get("/channels", "").body()).toBe("{\"channels\":{\"p-0-0\":{}}}");
  });
});

describe("closing a connection that watches its own user", () => {
  it("should send nothing to it after its close frame", () => {
    const app = newApp();
    const c = app.connect();
    const watcher = app.connect();
    c.signin("{\"id\":\"u1\",\"watchlist\":[\"u1\"]}");
    watcher.signin("{\"id\":\"w\",\"watchlist\":[\"u1\"]}");
    const acts = app.post("/users/u1/terminate_connections", "{}");
    const log = acts.log(c.id);
    expect(log.endsWith(closeEntry(4009, "Connection terminated by the server"))).toBe(true);
    expect(acts.log(watcher.id)).toBe(
      "{\"event\":\"pusher_internal:watchlist_events\",\"data\":\"{\\\"events\\\":[{\\\"name\\\":\\\"offline\\\",\\\"user_ids\\\":[\\\"u1\\\"]}]}\"}");
  });
});

function utf8Valid(bytes: Array<i32>): bool {
  const b = new ArrayBuffer(bytes.length);
  for (let i = 0; i < bytes.length; i++) store<u8>(changetype<usize>(b) + <usize>i, <u8>bytes[i]);
  return isValidUtf8(changetype<usize>(b), <usize>bytes.length);
}

describe("UTF-8 of what the host does not check", () => {
  it("should tell well-formed UTF-8 from the rest (RFC 3629)", () => {
    expect(utf8Valid([0x61, 0xC3, 0xA9, 0xE2, 0x82, 0xAC, 0xF0, 0x9F, 0x98, 0x80])).toBe(true);
    expect(utf8Valid([0x30, 0xE6])).toBe(false); // truncated
    expect(utf8Valid([0xC0, 0xAF])).toBe(false); // overlong
    expect(utf8Valid([0xED, 0xA0, 0x80])).toBe(false); // surrogate
    expect(utf8Valid([0xF4, 0x90, 0x80, 0x80])).toBe(false); // past U+10FFFF
    expect(utf8Valid([0x80])).toBe(false); // stray continuation
    expect(utf8Valid([0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0x61, 0xFF])).toBe(false);
  });

  it("should refuse an HTTP event whose data is not UTF-8 with 400 and deliver nothing", () => {
    const app = newApp();
    const c = app.connect();
    c.subscribe("news");
    const res = app.post("/events", "{\"name\":\"e\",\"channel\":\"news\",\"data\":\"x\uD800\"}");
    expect(res.status()).toBe(400);
    expect(res.body()).toBe("{\"error\":\"The event name and data must be valid UTF-8\",\"code\":400}");
    expect(res.log(c.id)).toBe("");
  });

  it("should answer 5 to a native publish whose data is not UTF-8 and 3 for such an event name", () => {
    const app = newApp();
    const c = app.connect();
    c.subscribe("news");
    const data = app.publish("[\"news\"]", "e", "x\uD800", "");
    expect(data.publishCodes()).toBe("5");
    expect(data.log(c.id)).toBe("");
    expect(app.publish("[\"news\"]", "e\uD800", "d", "").publishCodes()).toBe("3");
  });

  it("should refuse an auth workers' answer that is not UTF-8 with 502", () => {
    const app = newApp([Option.AuthFallback, 1]);
    const c = app.connect();
    c.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"private-x\"}}");
    const body = "{\"auth\":" + q(app.auth(c.socketId + ":private-x")) + ",\"x\":\"\uD800\"}";
    const acts = batch().authResult(c.id, "private-x", 200, body).run();
    expect(acts.log(c.id)).toBe(subscriptionErrorFrame("private-x", "AuthError", "The auth endpoint failed", 502));
  });
});

describe("terminate_connections names users decoded", () => {
  it("should close a presence member whose user_id its auth endpoint wrote with escapes", () => {
    const app = newApp();
    const c = app.connect();
    // PHP's json_encode: "José" → "Jos\u00e9", "a/b" → "a\/b".
    c.subscribePresence("presence-room", "{\"user_id\":\"Jos\\u00e9\"}");
    const other = app.connect();
    other.subscribePresence("presence-room", "{\"user_id\":\"a\\/b\"}");
    const first = app.post("/users/Jos%C3%A9/terminate_connections", "{}");
    expect(first.closeCode(c.id)).toBe(4009);
    expect(first.closeCode(other.id)).toBe(-1);
    expect(app.post("/users/a%2Fb/terminate_connections", "{}").closeCode(other.id)).toBe(4009);
  });

  it("should close a connection signed in with an escaped id", () => {
    const app = newApp();
    const c = app.connect();
    c.signin("{\"id\":\"a\\/b\"}");
    expect(app.post("/users/a%2Fb/terminate_connections", "{}").closeCode(c.id)).toBe(4009);
  });
});
