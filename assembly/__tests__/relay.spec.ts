// Events shared between nodes: the RELAY action an app with option Relay
// emits for every event published here (HTTP API, native publish, client
// event), and the REMOTE event that delivers another node's relay record to
// this node's subscribers.

import { Action, Option } from "../abi";
import {
  batch, Conn, eventFrame, newApp, q, succeededFrame, TestApp, utf8,
} from "./engine.include";

function relayingApp(): TestApp {
  return newApp([<u32>Option.Relay, 1]);
}

function subscriber(app: TestApp, channel: string): Conn {
  const c = app.connect();
  expect(c.subscribe(channel).log(c.id)).toBe(succeededFrame(channel));
  return c;
}

function eventBody(channels: string, event: string, data: string, extra: string): string {
  return "{\"name\":" + q(event) + ",\"channels\":" + channels + ",\"data\":" + q(data) + extra + "}";
}

/** A relay record of kind event with every field given, for hand-made and malformed records. */
function relayRecord(appId: string, channel: string, sid: string, flags: u8, msg: string): ArrayBuffer {
  const parts = [utf8(appId), utf8(channel), utf8(sid)];
  const m = utf8(msg);
  let n = 2 + m.byteLength;
  for (let i = 0; i < parts.length; i++) n += 2 + parts[i].byteLength;
  const b = new ArrayBuffer(n);
  let p = changetype<usize>(b);
  store<u8>(p++, 1);
  for (let i = 0; i < parts.length; i++) {
    store<u16>(p, <u16>parts[i].byteLength);
    memory.copy(p + 2, changetype<usize>(parts[i]), <usize>parts[i].byteLength);
    p += 2 + <usize>parts[i].byteLength;
  }
  store<u8>(p, flags);
  memory.copy(p + 1, changetype<usize>(m), <usize>m.byteLength);
  return b;
}

/** A relay record of kind terminate. */
function terminateRecord(appId: string, user: string, kind: u8 = 2): ArrayBuffer {
  const a = utf8(appId);
  const u = utf8(user);
  const b = new ArrayBuffer(5 + a.byteLength + u.byteLength);
  const p = changetype<usize>(b);
  store<u8>(p, kind);
  store<u16>(p + 1, <u16>a.byteLength);
  memory.copy(p + 3, changetype<usize>(a), <usize>a.byteLength);
  store<u16>(p + 3 + <usize>a.byteLength, <u16>u.byteLength);
  memory.copy(p + 5 + <usize>a.byteLength, changetype<usize>(u), <usize>u.byteLength);
  return b;
}

/** The first `n` bytes of `b`. */
function truncated(b: ArrayBuffer, n: i32): ArrayBuffer {
  return b.slice(0, n);
}

describe("relaying events published here", () => {
  it("should relay nothing for an app without the Relay option", () => {
    const app = newApp();
    subscriber(app, "news");
    const acts = app.post("/events", eventBody("[\"news\"]", "e", "d", ""));
    expect(acts.status()).toBe(200);
    expect(acts.count(Action.Relay)).toBe(0);
  });

  it("should relay an HTTP publish once per channel, as the message subscribers receive", () => {
    const app = relayingApp();
    const c = subscriber(app, "news");
    const acts = app.post("/events", eventBody("[\"news\",\"sport\"]", "e", "{\"a\":1}", ""));
    expect(acts.status()).toBe(200);
    const relays = acts.relays();
    expect(relays.length).toBe(2);
    expect(relays[0].channel).toBe("news");
    expect(relays[0].text).toBe(acts.log(c.id));
    expect(relays[1].channel).toBe("sport");
    expect(relays[1].text).toBe(eventFrame("e", "sport", "{\"a\":1}"));
    expect(relays[0].socketId).toBe("");
    expect(relays[0].code).toBe(1);
  });

  it("should relay events on channels nobody here is subscribed to", () => {
    const app = relayingApp();
    const acts = app.post("/events", eventBody("[\"elsewhere\"]", "e", "d", ""));
    expect(acts.deliveries()).toBe(0);
    expect(acts.relays().length).toBe(1);
  });

  it("should relay the socket id to leave out, even when it names no local connection", () => {
    const app = relayingApp();
    const a = subscriber(app, "news");
    const local = app.post("/events", eventBody("[\"news\"]", "e", "d", ",\"socket_id\":" + q(a.socketId)));
    expect(local.log(a.id)).toBe("");
    expect(local.relays()[0].socketId).toBe(a.socketId);
    const remote = app.post("/events", eventBody("[\"news\"]", "e", "d", ",\"socket_id\":\"99.99\""));
    expect(remote.relays()[0].socketId).toBe("99.99");
  });

  it("should relay every event of a batch", () => {
    const app = relayingApp();
    const body = "{\"batch\":[{\"name\":\"a\",\"channel\":\"c1\",\"data\":\"1\"},{\"name\":\"b\",\"channel\":\"c2\",\"data\":\"2\"}]}";
    const relays = app.post("/batch_events", body).relays();
    expect(relays.length).toBe(2);
    expect(relays[0].text).toBe(eventFrame("a", "c1", "1"));
    expect(relays[1].text).toBe(eventFrame("b", "c2", "2"));
  });

  it("should relay a native publish with its socket id", () => {
    const app = relayingApp();
    const relays = app.publish("[\"news\"]", "e", "plain \"text\"", "1.2").relays();
    expect(relays.length).toBe(1);
    expect(relays[0].text).toBe(eventFrame("e", "news", "plain \"text\""));
    expect(relays[0].socketId).toBe("1.2");
  });

  it("should not relay a refused publish", () => {
    const app = relayingApp();
    expect(app.publish("[\"bad name\"]", "e", "d", "").relays().length).toBe(0);
    expect(app.post("/events", eventBody("[\"news\"]", "", "d", "")).relays().length).toBe(0);
  });

  it("should relay a client event with the sender's socket id, not cacheable", () => {
    const app = relayingApp();
    const a = app.connect();
    a.subscribeSigned("private-chat");
    const acts = a.trigger("private-chat", "client-typing", "{\"who\":1}");
    const relays = acts.relays();
    expect(relays.length).toBe(1);
    expect(relays[0].channel).toBe("private-chat");
    expect(relays[0].socketId).toBe(a.socketId);
    expect(relays[0].code).toBe(0);
    expect(relays[0].text).toBe("{\"event\":\"client-typing\",\"channel\":\"private-chat\",\"data\":{\"who\":1}}");
  });

  it("should relay a presence client event with the sender's user_id", () => {
    const app = relayingApp();
    const a = app.connect();
    a.subscribePresence("presence-room", "{\"user_id\":\"u7\"}");
    const relays = a.trigger("presence-room", "client-x", "1").relays();
    expect(relays.length).toBe(1);
    expect(relays[0].text).toBe("{\"event\":\"client-x\",\"channel\":\"presence-room\",\"data\":1,\"user_id\":\"u7\"}");
  });

  it("should relay terminate_connections with the user id", () => {
    const app = relayingApp();
    const relays = app.post("/users/u%201/terminate_connections", "").relays();
    expect(relays.length).toBe(1);
    expect(relays[0].code).toBe(-2);
    expect(relays[0].text).toBe("u 1");
  });

  it("should not relay a refused client event", () => {
    const app = relayingApp();
    const a = app.connect();
    expect(a.trigger("private-chat", "client-x", "1").relays().length).toBe(0);
  });
});

describe("events from other nodes", () => {
  it("should deliver a relayed event to the subscribers here, and not relay it again", () => {
    const app = relayingApp();
    const record = app.post("/events", eventBody("[\"news\"]", "e", "{\"a\":1}", "")).relays()[0].record;
    const a = subscriber(app, "news");
    const b = subscriber(app, "news");
    const acts = batch().remote(record).run();
    expect(acts.log(a.id)).toBe(eventFrame("e", "news", "{\"a\":1}"));
    expect(acts.log(b.id)).toBe(eventFrame("e", "news", "{\"a\":1}"));
    expect(acts.count(Action.Broadcast)).toBe(1);
    expect(acts.count(Action.Relay)).toBe(0);
  });

  it("should leave out the connection whose socket id the record names", () => {
    const app = relayingApp();
    const a = subscriber(app, "news");
    const b = subscriber(app, "news");
    const msg = eventFrame("e", "news", "d");
    const acts = batch().remote(relayRecord(app.id, "news", a.socketId, 1, msg)).run();
    expect(acts.log(a.id)).toBe("");
    expect(acts.log(b.id)).toBe(msg);
  });

  it("should deliver a relayed client event, user_id included, to every subscriber here", () => {
    const app = relayingApp();
    const a = app.connect();
    a.subscribePresence("presence-room", "{\"user_id\":\"u1\"}");
    const msg = "{\"event\":\"client-x\",\"channel\":\"presence-room\",\"data\":1,\"user_id\":\"u9\"}";
    expect(batch().remote(relayRecord(app.id, "presence-room", "77.1", 0, msg)).run().log(a.id)).toBe(msg);
  });

  it("should keep a cacheable relayed event as the cache channel's last event", () => {
    const app = relayingApp();
    const msg = eventFrame("e", "cache-news", "{\"n\":2}");
    batch().remote(relayRecord(app.id, "cache-news", "", 1, msg)).run();
    expect(app.get("/channels/cache-news", "info=cache").body())
      .toBe("{\"occupied\":false,\"cache\":{\"data\":\"{\\\"n\\\":2}\",\"ttl\":1800}}");
    const c = app.connect();
    expect(c.subscribe("cache-news").log(c.id)).toBe(succeededFrame("cache-news") + "\n" + msg);
  });

  it("should not cache a relayed client event", () => {
    const app = relayingApp();
    const msg = "{\"event\":\"client-x\",\"channel\":\"private-cache-x\",\"data\":1}";
    batch().remote(relayRecord(app.id, "private-cache-x", "", 0, msg)).run();
    expect(app.get("/channels/private-cache-x", "info=cache").body()).toBe("{\"occupied\":false}");
  });

  it("should deliver a relayed server-to-user event to the user's signed-in connections", () => {
    const app = relayingApp();
    const u = app.connect();
    u.signin("{\"id\":\"u1\"}");
    const msg = eventFrame("notice", "#server-to-user-u1", "hi");
    expect(batch().remote(relayRecord(app.id, "#server-to-user-u1", "", 1, msg)).run().log(u.id)).toBe(msg);
  });

  it("should close the user's connections here on a relayed terminate_connections", () => {
    const app = relayingApp();
    const signedIn = app.connect();
    signedIn.signin("{\"id\":\"u1\"}");
    const present = app.connect();
    present.subscribePresence("presence-room", "{\"user_id\":\"u1\"}");
    const other = app.connect();
    other.signin("{\"id\":\"u2\"}");
    const acts = batch().remote(terminateRecord(app.id, "u1")).run();
    expect(acts.closeCode(signedIn.id)).toBe(4009);
    expect(acts.closeCode(present.id)).toBe(4009);
    expect(acts.closeCode(other.id)).toBe(-1);
    // Not relayed again; the presence member that left is, as any departure, and so is the
    // user who went offline here.
    const relays = acts.relays();
    expect(relays.length).toBe(2);
    const codes = relays.map<i32>((r) => r.code).sort();
    expect(codes[0]).toBe(-10);
    expect(codes[1]).toBe(-4);
    expect(relays.filter((r) => r.code == -10)[0].text).toBe("u1");
  });

  it("should ignore a terminate for another app, without a user, or of an unknown kind", () => {
    const app = relayingApp();
    const c = app.connect();
    c.signin("{\"id\":\"u1\"}");
    const unknown = terminateRecord(app.id, "u1");
    store<u8>(changetype<usize>(unknown), 3);
    const acts = batch()
      .remote(terminateRecord("no-such-app", "u1"))
      .remote(terminateRecord(app.id, ""))
      .remote(unknown)
      .run();
    expect(acts.length).toBe(0);
  });

  it("should ignore malformed records and go on with the batch", () => {
    const app = relayingApp();
    const a = subscriber(app, "news");
    const msg = eventFrame("e", "news", "d");
    const good = relayRecord(app.id, "news", "", 1, msg);
    const b = batch();
    for (let n = 0; n < good.byteLength; n++) b.remote(truncated(good, n));
    b.remote(relayRecord("no-such-app", "news", "", 1, msg));
    b.remote(relayRecord(app.id, "bad name", "", 1, msg));
    b.remote(relayRecord(app.id, "news", "", 1, "not json"));
    b.remote(relayRecord(app.id, "news", "", 1, "[1,2]"));
    b.remote(relayRecord(app.id, "news", "", 1, "{\"event\":\"e\""));
    b.remote(relayRecord(app.id, "news", "", 1, "{\"event\":\"e\",\"channel\":\"news\",\"data\":{}}"));
    b.remote(relayRecord(app.id, "news", "", 0, "{\"eveot\":\"e\",\"channel\":\"news\",\"data\":\"d\"}"));
    b.remote(relayRecord(app.id, "news", "", 0, "{\"event\":1,\"channel\":\"news\",\"data\":\"d\"}"));
    b.remote(relayRecord(app.id, "news", "", 0, "{\"event\":\"\",\"channel\":\"news\",\"data\":\"d\"}"));
    b.remote(good);
    const acts = b.run();
    expect(acts.log(a.id)).toBe(msg);
    expect(acts.length).toBe(1);
  });
});

function watchlistEvent(name: string, id: string): string {
  return "{\"event\":\"pusher_internal:watchlist_events\",\"data\":" +
    q("{\"events\":[{\"name\":\"" + name + "\",\"user_ids\":[" + q(id) + "]}]}") + "}";
}

/** A relay record of a user online (kind 9) or offline (kind 10) on another node. */
function userRecord(appId: string, user: string, online: bool): ArrayBuffer {
  return terminateRecord(appId, user, online ? 9 : 10);
}

describe("signed-in users across nodes", () => {
  it("should relay a user's first sign-in here and its last connection's close, not the others", () => {
    const app = relayingApp();
    const a = app.connect();
    let relays = a.signin("{\"id\":\"u1\"}").relays();
    expect(relays.length).toBe(1);
    expect(relays[0].code).toBe(-9);
    expect(relays[0].text).toBe("u1");
    const b = app.connect();
    expect(b.signin("{\"id\":\"u1\"}").relays().length).toBe(0);
    expect(batch().closed(a.id).run().relays().length).toBe(0);
    relays = batch().closed(b.id).run().relays();
    expect(relays.length).toBe(1);
    expect(relays[0].code).toBe(-10);
  });

  it("should tell a watcher here when a watched user comes online or goes offline on another node only", () => {
    const app = relayingApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"u1\"]}");
    expect(batch().remote(userRecord(app.id, "u1", true), 1).run().log(w.id)).toBe(watchlistEvent("online", "u1"));
    // Online on a second node, then here: already online, nothing new.
    expect(batch().remote(userRecord(app.id, "u1", true), 2).run().log(w.id)).toBe("");
    const here = app.connect();
    expect(here.signin("{\"id\":\"u1\"}").log(w.id)).toBe("");
    expect(batch().remote(userRecord(app.id, "u1", false), 1).run().log(w.id)).toBe("");
    expect(batch().closed(here.id).run().log(w.id)).toBe("");
    // Its last node goes: offline.
    expect(batch().remote(userRecord(app.id, "u1", false), 2).run().log(w.id)).toBe(watchlistEvent("offline", "u1"));
  });

  it("should list users online on other nodes to a new watcher, and take them offline with their node", () => {
    const app = relayingApp();
    batch().remote(userRecord(app.id, "u1", true), 3).run();
    const w = app.connect();
    const ud = "{\"id\":\"w\",\"watchlist\":[\"u1\"]}";
    expect(w.signin(ud).log(w.id).includes(watchlistEvent("online", "u1"))).toBe(true);
    expect(batch().nodeGone(3).run().log(w.id)).toBe(watchlistEvent("offline", "u1"));
  });

  it("should relay every user signed in here on SYNC", () => {
    // SYNC covers every app, those of the earlier tests too: count what this one adds.
    const before = batch().sync().run().relays().filter((r) => r.code == -9).length;
    const app = relayingApp();
    app.connect().signin("{\"id\":\"s1\"}");
    app.connect().signin("{\"id\":\"s2\"}");
    const users = batch().sync().run().relays().filter((r) => r.code == -9);
    expect(users.length).toBe(before + 2);
    expect(users.filter((r) => r.text == "s1").length).toBe(1);
    expect(users.filter((r) => r.text == "s2").length).toBe(1);
  });

  it("should ignore a user record without a user id or with bytes after it", () => {
    const app = relayingApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"u1\"]}");
    const long = userRecord(app.id, "u1", true);
    const padded = new ArrayBuffer(long.byteLength + 1);
    memory.copy(changetype<usize>(padded), changetype<usize>(long), <usize>long.byteLength);
    expect(batch().remote(userRecord(app.id, "", true)).remote(padded).run().log(w.id)).toBe("");
  });
});
