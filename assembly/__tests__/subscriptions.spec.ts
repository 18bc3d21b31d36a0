// pusher:subscribe / pusher:unsubscribe through the engine ABI: public,
// private, encrypted, presence, cache and server-to-user channels, names,
// presence limits, subscription counts and app isolation.

import { Action, Event, Option } from "../abi";
import {
  advance, batch, Conn, eventFrame, expectOneOf, hmacHex, newApp, presenceSucceededFrame, q, rep,
  subscribeMessage, subscriptionErrorFrame, succeededFrame, TestApp,
} from "./engine.include";

function cacheMiss(channel: string): string {
  return "{\"event\":\"pusher:cache_miss\",\"channel\":" + q(channel) + "}";
}

function countFrame(channel: string, n: i32): string {
  return eventFrame("pusher_internal:subscription_count", channel, "{\"subscription_count\":" + n.toString() + "}");
}

function memberAdded(channel: string, json: string): string {
  return eventFrame("pusher_internal:member_added", channel, json);
}

function memberRemoved(channel: string, json: string): string {
  return eventFrame("pusher_internal:member_removed", channel, json);
}

const INVALID_NAME = "Channel names are 1 to 200 characters of [-a-zA-Z0-9_=@,.;]";

function invalidName(channel: string): string {
  return subscriptionErrorFrame(channel, "InvalidChannel", INVALID_NAME, 400);
}

/** Publishes (native path) one event and returns what `c` received. */
function published(app: TestApp, c: Conn, channel: string): string {
  return app.publish("[" + q(channel) + "]", "probe", "p", "").log(c.id);
}

describe("auth signature vectors (research notes)", () => {
  it("should sign the Pusher private-channel example as documented", () => {
    expect(hmacHex("7ad3773142a6692b25b8", "1234.1234:private-foobar"))
      .toBe("58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4");
  });

  it("should sign the presence example to the recomputed value", () => {
    expect(hmacHex("7ad3773142a6692b25b8",
      "1234.1234:presence-foobar:{\"user_id\":10,\"user_info\":{\"name\":\"Mr. Channels\"}}"))
      .toBe("31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80");
  });
});

describe("public channels", () => {
  it("should answer pusher_internal:subscription_succeeded with data \"{}\"", () => {
    const c = newApp().connect();
    const acts = c.subscribe("my-channel");
    expect(acts.log(c.id)).toBe("{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\"my-channel\",\"data\":\"{}\"}");
    expect(acts.length).toBe(1);
  });

  it("should accept subscribe data without auth", () => {
    const c = newApp().connect();
    expect(c.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"no-auth\"}}").log(c.id)).toBe(succeededFrame("no-auth"));
  });

  it("should deliver events to a subscriber and stop after pusher:unsubscribe, which gets no reply", () => {
    const app = newApp();
    const c = app.connect();
    c.subscribe("news");
    expect(published(app, c, "news")).toBe(eventFrame("probe", "news", "p"));
    expect(c.unsubscribe("news").length).toBe(0);
    expect(published(app, c, "news")).toBe("");
  });

  it("should confirm a repeated subscribe again and still deliver each event once", () => {
    const app = newApp();
    const c = app.connect();
    c.subscribe("twice");
    expect(c.subscribe("twice").log(c.id)).toBe(succeededFrame("twice"));
    expect(published(app, c, "twice")).toBe(eventFrame("probe", "twice", "p"));
  });

  it("should ignore pusher:unsubscribe for a channel it never joined", () => {
    const c = newApp().connect();
    expect(c.unsubscribe("never-joined").length).toBe(0);
    expect(c.send("{\"event\":\"pusher:unsubscribe\",\"data\":{}}").length).toBe(0);
    expect(c.send("{\"event\":\"pusher:unsubscribe\"}").length).toBe(0);
  });

  it("should drop every subscription of a closed connection", () => {
    const app = newApp();
    const c = app.connect();
    c.subscribe("a-chan");
    c.subscribe("b-chan");
    c.close();
    const acts = app.publish("[\"a-chan\",\"b-chan\"]", "probe", "p", "");
    expect(acts.deliveries()).toBe(0);
  });

  it("should keep the other subscribers when one leaves", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribe("stay");
    b.subscribe("stay");
    a.unsubscribe("stay");
    const acts = app.publish("[\"stay\"]", "probe", "p", "");
    expect(acts.recipientsOf(eventFrame("probe", "stay", "p"))).toBe(b.id.toString());
  });

  it("should refuse subscribe data without a channel, keeping the connection", () => {
    const c = newApp().connect();
    const err = subscriptionErrorFrame("", "InvalidMessage", "Subscribe data must be an object with a channel", 400);
    expect(c.send("{\"event\":\"pusher:subscribe\",\"data\":{\"auth\":\"\"}}").log(c.id)).toBe(err);
    expect(c.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":7}}").log(c.id)).toBe(err);
    expect(c.send("{\"event\":\"pusher:subscribe\",\"data\":\"x\"}").log(c.id)).toBe(err);
    expect(c.send("{\"event\":\"pusher:subscribe\"}").log(c.id)).toBe(err);
    expect(c.subscribe("after").log(c.id)).toBe(succeededFrame("after"));
  });
});

describe("channel names", () => {
  it("should accept a name of exactly 200 characters", () => {
    const c = newApp().connect();
    const name = rep("a", 200);
    expect(c.subscribe(name).log(c.id)).toBe(succeededFrame(name));
  });

  it("should refuse a name of 201 characters with InvalidChannel 400", () => {
    const c = newApp().connect();
    const name = rep("a", 201);
    const acts = c.subscribe(name);
    expect(acts.log(c.id)).toBe(invalidName(name));
    expect(acts.closeCode(c.id)).toBe(-1);
  });

  it("should accept every character of [-a-zA-Z0-9_=@,.;]", () => {
    const c = newApp().connect();
    const name = "Az-09_=@,.;zZ";
    expect(c.subscribe(name).log(c.id)).toBe(succeededFrame(name));
  });

  it("should refuse characters outside the allowed set", () => {
    const c = newApp().connect();
    expect(c.subscribe("with space").log(c.id)).toBe(invalidName("with space"));
    expect(c.subscribe("slash/name").log(c.id)).toBe(invalidName("slash/name"));
    expect(c.subscribe("star*").log(c.id)).toBe(invalidName("star*"));
    expect(c.subscribe("caf\u00e9").log(c.id)).toBe(invalidName("caf\u00e9"));
    expect(c.subscribe("").log(c.id)).toBe(invalidName(""));
  });

  it("should refuse # anywhere but at the start of #server-to-user-", () => {
    const c = newApp().connect();
    expect(c.subscribe("#news").log(c.id)).toBe(invalidName("#news"));
    expect(c.subscribe("news#1").log(c.id)).toBe(invalidName("news#1"));
    expect(c.subscribe("#server-to-user-").log(c.id)).toBe(invalidName("#server-to-user-"));
    expect(c.subscribe("##server-to-user-1").log(c.id)).toBe(invalidName("##server-to-user-1"));
    expect(c.subscribe("#server-to-user-a#b").log(c.id)).toBe(invalidName("#server-to-user-a#b"));
    expect(c.subscribe("private-#x").log(c.id)).toBe(invalidName("private-#x"));
  });

  it("should subscribe to the decoded name of a channel written with JSON escapes", () => {
    const c = newApp().connect();
    const acts = c.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"a\\u0062c\"}}");
    expect(acts.log(c.id)).toBe(succeededFrame("abc"));
  });
});

describe("private channels", () => {
  it("should subscribe with a valid socket_id:channel signature", () => {
    const c = newApp().connect();
    expect(c.subscribeSigned("private-orders").log(c.id)).toBe(succeededFrame("private-orders"));
  });

  it("should refuse a forged signature with subscription_error AuthError 401 and not subscribe", () => {
    const app = newApp();
    const c = app.connect();
    const forged = app.key + ":" + hmacHex("not-the-secret", c.socketId + ":private-orders");
    const acts = c.send(subscribeMessage("private-orders", forged, null));
    expect(acts.log(c.id)).toBe(
      "{\"event\":\"pusher:subscription_error\",\"channel\":\"private-orders\",\"data\":{\"type\":\"AuthError\",\"error\":\"Invalid signature\",\"status\":401}}",
    );
    expect(acts.closeCode(c.id)).toBe(-1);
    expect(published(app, c, "private-orders")).toBe("");
  });

  it("should refuse a missing auth with subscription_error AuthError 401", () => {
    const app = newApp();
    const c = app.connect();
    const acts = c.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"private-orders\"}}");
    expect(acts.log(c.id)).toBe(subscriptionErrorFrame("private-orders", "AuthError", "Missing auth signature", 401));
    expect(published(app, c, "private-orders")).toBe("");
  });

  it("should refuse an empty auth", () => {
    const c = newApp().connect();
    expect(c.send(subscribeMessage("private-orders", "", null)).log(c.id))
      .toBe(subscriptionErrorFrame("private-orders", "AuthError", "Missing auth signature", 401));
  });

  it("should refuse a signature made for another socket id", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    const stolen = app.auth(a.socketId + ":private-orders");
    expect(b.send(subscribeMessage("private-orders", stolen, null)).log(b.id))
      .toBe(subscriptionErrorFrame("private-orders", "AuthError", "Invalid signature", 401));
  });

  it("should refuse a signature made for another channel", () => {
    const app = newApp();
    const c = app.connect();
    const other = app.auth(c.socketId + ":private-other");
    expect(c.send(subscribeMessage("private-orders", other, null)).log(c.id))
      .toBe(subscriptionErrorFrame("private-orders", "AuthError", "Invalid signature", 401));
  });

  it("should refuse a valid signature behind another app key", () => {
    const app = newApp();
    const c = app.connect();
    const sig = hmacHex(app.secret, c.socketId + ":private-orders");
    expect(c.send(subscribeMessage("private-orders", "wrong-key:" + sig, null)).log(c.id))
      .toBe(subscriptionErrorFrame("private-orders", "AuthError", "Invalid signature", 401));
    expect(c.send(subscribeMessage("private-orders", sig, null)).log(c.id))
      .toBe(subscriptionErrorFrame("private-orders", "AuthError", "Invalid signature", 401));
  });

  it("should refuse an upper-case hex signature", () => {
    const app = newApp();
    const c = app.connect();
    const sig = hmacHex(app.secret, c.socketId + ":private-orders").toUpperCase();
    expect(c.send(subscribeMessage("private-orders", app.key + ":" + sig, null)).closeCode(c.id)).toBe(-1);
    expect(published(app, c, "private-orders")).toBe("");
  });
});

describe("encrypted channels", () => {
  it("should authorise private-encrypted- channels like private ones", () => {
    const app = newApp();
    const c = app.connect();
    expect(c.subscribeSigned("private-encrypted-vault").log(c.id)).toBe(succeededFrame("private-encrypted-vault"));
    const d = app.connect();
    expect(d.send(subscribeMessage("private-encrypted-vault", app.key + ":" + rep("0", 64), null)).log(d.id))
      .toBe(subscriptionErrorFrame("private-encrypted-vault", "AuthError", "Invalid signature", 401));
    expect(d.send("{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"private-encrypted-vault\"}}").log(d.id))
      .toBe(subscriptionErrorFrame("private-encrypted-vault", "AuthError", "Missing auth signature", 401));
  });

  it("should relay encrypted payloads untouched", () => {
    const app = newApp();
    const c = app.connect();
    c.subscribeSigned("private-encrypted-vault");
    const data = "{\"nonce\":\"4Qx+/9a=\",\"ciphertext\":\"AbC/dEf+GhI=\"}";
    expect(app.publish("[\"private-encrypted-vault\"]", "secret", data, "").log(c.id))
      .toBe(eventFrame("secret", "private-encrypted-vault", data));
  });
});

describe("presence channels", () => {
  it("should answer with the roster: ids, hash and count", () => {
    const c = newApp().connect();
    const cd = "{\"user_id\":10,\"user_info\":{\"name\":\"Mr. Channels\"}}";
    expect(c.subscribePresence("presence-room", cd).log(c.id)).toBe(
      "{\"event\":\"pusher_internal:subscription_succeeded\",\"channel\":\"presence-room\",\"data\":" +
      "\"{\\\"presence\\\":{\\\"ids\\\":[10],\\\"hash\\\":{\\\"10\\\":{\\\"name\\\":\\\"Mr. Channels\\\"}},\\\"count\\\":1}}\"}",
    );
  });

  it("should keep a string user_id a string", () => {
    const c = newApp().connect();
    expect(c.subscribePresence("presence-room", "{\"user_id\":\"abc\",\"user_info\":{\"n\":1}}").log(c.id))
      .toBe(presenceSucceededFrame("presence-room", "{\"ids\":[\"abc\"],\"hash\":{\"abc\":{\"n\":1}},\"count\":1}"));
  });

  it("should give a member without user_info a null hash entry", () => {
    const c = newApp().connect();
    expect(c.subscribePresence("presence-room", "{\"user_id\":\"u\"}").log(c.id))
      .toBe(presenceSucceededFrame("presence-room", "{\"ids\":[\"u\"],\"hash\":{\"u\":null},\"count\":1}"));
  });

  it("should keep a string user_info a JSON string in the roster and in member_added", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    expect(a.subscribePresence("presence-str", "{\"user_id\":1,\"user_info\":\"Bob\"}").log(a.id))
      .toBe(presenceSucceededFrame("presence-str", "{\"ids\":[1],\"hash\":{\"1\":\"Bob\"},\"count\":1}"));
    expect(b.subscribePresence("presence-str", "{\"user_id\":2,\"user_info\":\"Al\"}").log(a.id))
      .toBe(memberAdded("presence-str", "{\"user_id\":2,\"user_info\":\"Al\"}"));
  });

  it("should send member_added to the other members only, and the full roster to the newcomer", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribePresence("presence-room", "{\"user_id\":10,\"user_info\":{\"name\":\"A\"}}");
    const acts = b.subscribePresence("presence-room", "{\"user_id\":\"abc\",\"user_info\":{\"name\":\"B\"}}");
    expect(acts.log(a.id)).toBe(memberAdded("presence-room", "{\"user_id\":\"abc\",\"user_info\":{\"name\":\"B\"}}"));
    expectOneOf(acts.log(b.id), [
      presenceSucceededFrame("presence-room",
        "{\"ids\":[10,\"abc\"],\"hash\":{\"10\":{\"name\":\"A\"},\"abc\":{\"name\":\"B\"}},\"count\":2}"),
      presenceSucceededFrame("presence-room",
        "{\"ids\":[\"abc\",10],\"hash\":{\"abc\":{\"name\":\"B\"},\"10\":{\"name\":\"A\"}},\"count\":2}"),
    ]);
  });

  it("should carry a numeric user_id as a number in member_added and member_removed", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribePresence("presence-room", "{\"user_id\":\"watcher\"}");
    expect(b.subscribePresence("presence-room", "{\"user_id\":42}").log(a.id))
      .toBe(memberAdded("presence-room", "{\"user_id\":42,\"user_info\":null}"));
    expect(b.unsubscribe("presence-room").log(a.id)).toBe(memberRemoved("presence-room", "{\"user_id\":42}"));
  });

  it("should count a user with several connections once and send member_added only for the first", () => {
    const app = newApp();
    const watcher = app.connect();
    const c1 = app.connect();
    const c2 = app.connect();
    watcher.subscribePresence("presence-room", "{\"user_id\":\"w\"}");
    const first = c1.subscribePresence("presence-room", "{\"user_id\":7,\"user_info\":{\"tab\":1}}");
    expect(first.log(watcher.id)).toBe(memberAdded("presence-room", "{\"user_id\":7,\"user_info\":{\"tab\":1}}"));
    const second = c2.subscribePresence("presence-room", "{\"user_id\":7,\"user_info\":{\"tab\":2}}");
    expect(second.log(watcher.id)).toBe("");
    expect(second.log(c1.id)).toBe("");
    const roster = second.log(c2.id);
    expect(roster.includes("\\\"count\\\":2}")).toBe(true);
    expect(roster.includes("\\\"ids\\\":[7,\\\"w\\\"]") || roster.includes("\\\"ids\\\":[\\\"w\\\",7]")).toBe(true);
  });

  it("should send member_removed only when the user's last connection leaves", () => {
    const app = newApp();
    const watcher = app.connect();
    const c1 = app.connect();
    const c2 = app.connect();
    watcher.subscribePresence("presence-room", "{\"user_id\":\"w\"}");
    c1.subscribePresence("presence-room", "{\"user_id\":7}");
    c2.subscribePresence("presence-room", "{\"user_id\":7}");
    expect(c1.unsubscribe("presence-room").log(watcher.id)).toBe("");
    expect(c2.close().log(watcher.id)).toBe(memberRemoved("presence-room", "{\"user_id\":7}"));
  });

  it("should send member_removed when a member's socket closes", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribePresence("presence-room", "{\"user_id\":\"a\"}");
    b.subscribePresence("presence-room", "{\"user_id\":\"b\"}");
    const acts = b.close();
    expect(acts.log(a.id)).toBe(memberRemoved("presence-room", "{\"user_id\":\"b\"}"));
    expect(acts.log(b.id)).toBe("");
  });

  it("should forget a member who left: the next roster no longer lists them", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribePresence("presence-room", "{\"user_id\":\"a\"}");
    a.unsubscribe("presence-room");
    expect(b.subscribePresence("presence-room", "{\"user_id\":\"b\"}").log(b.id))
      .toBe(presenceSucceededFrame("presence-room", "{\"ids\":[\"b\"],\"hash\":{\"b\":null},\"count\":1}"));
  });

  it("should refuse presence without channel_data with AuthError 401", () => {
    const app = newApp();
    const c = app.connect();
    const auth = app.auth(c.socketId + ":presence-room");
    expect(c.send(subscribeMessage("presence-room", auth, null)).log(c.id))
      .toBe(subscriptionErrorFrame("presence-room", "AuthError", "Presence channels need channel_data", 401));
  });

  it("should refuse a presence signature that does not cover the exact channel_data", () => {
    const app = newApp();
    const c = app.connect();
    const auth = app.auth(c.socketId + ":presence-room:{\"user_id\":1}");
    expect(c.send(subscribeMessage("presence-room", auth, "{\"user_id\": 1}")).log(c.id))
      .toBe(subscriptionErrorFrame("presence-room", "AuthError", "Invalid signature", 401));
    const privateStyle = app.auth(c.socketId + ":presence-room");
    expect(c.send(subscribeMessage("presence-room", privateStyle, "{\"user_id\":1}")).log(c.id))
      .toBe(subscriptionErrorFrame("presence-room", "AuthError", "Invalid signature", 401));
  });

  it("should refuse signed channel_data without a user_id", () => {
    const c = newApp().connect();
    const err = subscriptionErrorFrame("presence-room", "InvalidChannelData", "channel_data needs a user_id", 400);
    expect(c.subscribePresence("presence-room", "{\"user_info\":{}}").log(c.id)).toBe(err);
    expect(c.subscribePresence("presence-room", "{\"user_id\":\"\"}").log(c.id)).toBe(err);
    expect(c.subscribePresence("presence-room", "{\"user_id\":null}").log(c.id)).toBe(err);
    expect(c.subscribePresence("presence-room", "{\"user_id\":{\"a\":1}}").log(c.id)).toBe(err);
  });

  it("should refuse signed channel_data that is not a JSON object", () => {
    const c = newApp().connect();
    const err = subscriptionErrorFrame("presence-room", "InvalidChannelData", "channel_data must be a JSON object", 400);
    expect(c.subscribePresence("presence-room", "[1]").log(c.id)).toBe(err);
    expect(c.subscribePresence("presence-room", "{\"user_id\":1").log(c.id)).toBe(err);
  });

  it("should refuse a user_id over 128 characters and accept 128", () => {
    const c = newApp().connect();
    expect(c.subscribePresence("presence-long", "{\"user_id\":\"" + rep("u", 129) + "\"}").log(c.id))
      .toBe(subscriptionErrorFrame("presence-long", "LimitReached", "user_id is longer than 128 characters", 400));
    const ok = c.subscribePresence("presence-long", "{\"user_id\":\"" + rep("u", 128) + "\"}").log(c.id);
    expect(ok.startsWith("{\"event\":\"pusher_internal:subscription_succeeded\"")).toBe(true);
  });

  it("should refuse user_info over max_presence_user_info and accept it at the limit", () => {
    const app = newApp([Option.MaxPresenceUserInfo, 20]);
    const c = app.connect();
    const at = "{\"name\":\"123456789\"}"; // 20 bytes
    const over = "{\"name\":\"1234567890\"}"; // 21 bytes
    expect(c.subscribePresence("presence-info", "{\"user_id\":1,\"user_info\":" + over + "}").log(c.id))
      .toBe(subscriptionErrorFrame("presence-info", "LimitReached", "user_info is larger than the limit", 400));
    expect(c.subscribePresence("presence-info", "{\"user_id\":1,\"user_info\":" + at + "}").log(c.id))
      .toBe(presenceSucceededFrame("presence-info", "{\"ids\":[1],\"hash\":{\"1\":" + at + "},\"count\":1}"));
  });

  it("should default max_presence_user_info to 2 KB", () => {
    const c = newApp().connect();
    const info2048 = "{\"a\":\"" + rep("x", 2040) + "\"}";
    const info2049 = "{\"a\":\"" + rep("x", 2041) + "\"}";
    expect(c.subscribePresence("presence-big", "{\"user_id\":1,\"user_info\":" + info2049 + "}").log(c.id))
      .toBe(subscriptionErrorFrame("presence-big", "LimitReached", "user_info is larger than the limit", 400));
    expect(c.subscribePresence("presence-big", "{\"user_id\":1,\"user_info\":" + info2048 + "}").log(c.id)
      .startsWith("{\"event\":\"pusher_internal:subscription_succeeded\"")).toBe(true);
  });

  it("should refuse a new user in a full channel but admit more connections of a member", () => {
    const app = newApp([Option.MaxPresenceMembers, 2]);
    const a = app.connect();
    const b = app.connect();
    const a2 = app.connect();
    const c = app.connect();
    a.subscribePresence("presence-full", "{\"user_id\":\"a\"}");
    b.subscribePresence("presence-full", "{\"user_id\":\"b\"}");
    const refused = c.subscribePresence("presence-full", "{\"user_id\":\"c\"}");
    expect(refused.log(c.id)).toBe(subscriptionErrorFrame("presence-full", "LimitReached", "The presence channel is full", 4100));
    expect(refused.log(a.id)).toBe("");
    expect(refused.closeCode(c.id)).toBe(-1);
    expect(a2.subscribePresence("presence-full", "{\"user_id\":\"a\"}").log(a2.id)
      .startsWith("{\"event\":\"pusher_internal:subscription_succeeded\"")).toBe(true);
    b.unsubscribe("presence-full");
    expect(c.subscribePresence("presence-full", "{\"user_id\":\"c\"}").log(a.id))
      .toBe(memberAdded("presence-full", "{\"user_id\":\"c\",\"user_info\":null}"));
  });

  it("should default max_presence_members to 100", () => {
    const app = newApp();
    for (let i = 0; i < 100; i++) {
      const c = app.connect();
      const log = c.subscribePresence("presence-hundred", "{\"user_id\":" + i.toString() + "}").log(c.id);
      expect(log.startsWith("{\"event\":\"pusher_internal:subscription_succeeded\"")).toBe(true);
    }
    const last = app.connect();
    expect(last.subscribePresence("presence-hundred", "{\"user_id\":100}").log(last.id))
      .toBe(subscriptionErrorFrame("presence-hundred", "LimitReached", "The presence channel is full", 4100));
  });
});

describe("cache channels", () => {
  it("should send pusher:cache_miss right after subscription_succeeded when nothing is cached", () => {
    const c = newApp().connect();
    expect(c.subscribe("cache-news").log(c.id)).toBe(succeededFrame("cache-news") + "\n" + cacheMiss("cache-news"));
  });

  it("should send the last event right after subscription_succeeded", () => {
    const app = newApp();
    app.publish("[\"cache-news\"]", "first", "1", "");
    app.publish("[\"cache-news\"]", "second", "{\"n\":2}", "");
    const c = app.connect();
    expect(c.subscribe("cache-news").log(c.id))
      .toBe(succeededFrame("cache-news") + "\n" + eventFrame("second", "cache-news", "{\"n\":2}"));
  });

  it("should deliver to subscribers and cache at the same time", () => {
    const app = newApp();
    const a = app.connect();
    a.subscribe("cache-live");
    expect(app.publish("[\"cache-live\"]", "tick", "1", "").log(a.id)).toBe(eventFrame("tick", "cache-live", "1"));
    const b = app.connect();
    expect(b.subscribe("cache-live").log(b.id))
      .toBe(succeededFrame("cache-live") + "\n" + eventFrame("tick", "cache-live", "1"));
  });

  it("should cache on private-cache-, private-encrypted-cache- and presence-cache- channels", () => {
    const app = newApp();
    app.publish("[\"private-cache-a\",\"private-encrypted-cache-b\",\"presence-cache-c\"]", "ev", "d", "");
    const c = app.connect();
    expect(c.subscribeSigned("private-cache-a").log(c.id))
      .toBe(succeededFrame("private-cache-a") + "\n" + eventFrame("ev", "private-cache-a", "d"));
    expect(c.subscribeSigned("private-encrypted-cache-b").log(c.id))
      .toBe(succeededFrame("private-encrypted-cache-b") + "\n" + eventFrame("ev", "private-encrypted-cache-b", "d"));
    expect(c.subscribePresence("presence-cache-c", "{\"user_id\":1}").log(c.id)).toBe(
      presenceSucceededFrame("presence-cache-c", "{\"ids\":[1],\"hash\":{\"1\":null},\"count\":1}") + "\n" +
      eventFrame("ev", "presence-cache-c", "d"),
    );
  });

  it("should not cache on channels without a cache prefix", () => {
    const app = newApp();
    app.publish("[\"news-cache\",\"private-x-cache-y\"]", "ev", "d", "");
    const c = app.connect();
    expect(c.subscribe("news-cache").log(c.id)).toBe(succeededFrame("news-cache"));
  });

  it("should expire the cached event after cache_ttl on the now clock", () => {
    const app = newApp([Option.CacheTtl, 60000]);
    app.publish("[\"cache-ttl\"]", "ev", "d", "");
    advance(59999);
    const a = app.connect();
    expect(a.subscribe("cache-ttl").log(a.id)).toBe(succeededFrame("cache-ttl") + "\n" + eventFrame("ev", "cache-ttl", "d"));
    advance(1);
    const b = app.connect();
    expect(b.subscribe("cache-ttl").log(b.id)).toBe(succeededFrame("cache-ttl") + "\n" + cacheMiss("cache-ttl"));
  });

  it("should default cache_ttl to 30 minutes", () => {
    const app = newApp();
    app.publish("[\"cache-default\"]", "ev", "d", "");
    advance(30 * 60 * 1000 - 1);
    const a = app.connect();
    expect(a.subscribe("cache-default").log(a.id))
      .toBe(succeededFrame("cache-default") + "\n" + eventFrame("ev", "cache-default", "d"));
    advance(1);
    const b = app.connect();
    expect(b.subscribe("cache-default").log(b.id)).toBe(succeededFrame("cache-default") + "\n" + cacheMiss("cache-default"));
  });

  it("should not cache client events", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribeSigned("private-cache-chat");
    b.subscribeSigned("private-cache-chat");
    expect(a.trigger("private-cache-chat", "client-typing", "{}").log(b.id))
      .toBe("{\"event\":\"client-typing\",\"channel\":\"private-cache-chat\",\"data\":{}}");
    const c = app.connect();
    expect(c.subscribeSigned("private-cache-chat").log(c.id))
      .toBe(succeededFrame("private-cache-chat") + "\n" + cacheMiss("private-cache-chat"));
  });
});

describe("subscription_count", () => {
  it("should not send subscription counts unless the app opts in", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    expect(a.subscribe("quiet").log(a.id)).toBe(succeededFrame("quiet"));
    const acts = b.subscribe("quiet");
    expect(acts.log(a.id)).toBe("");
    expect(acts.log(b.id)).toBe(succeededFrame("quiet"));
  });

  it("should broadcast the count to every subscriber on subscribe and unsubscribe", () => {
    const app = newApp([Option.SubscriptionCount, 1]);
    const a = app.connect();
    const b = app.connect();
    expect(a.subscribe("counted").log(a.id)).toBe(succeededFrame("counted") + "\n" + countFrame("counted", 1));
    const join = b.subscribe("counted");
    expect(join.log(b.id)).toBe(succeededFrame("counted") + "\n" + countFrame("counted", 2));
    expect(join.log(a.id)).toBe(countFrame("counted", 2));
    expect(join.count(Action.Broadcast)).toBe(1);
    const leave = a.unsubscribe("counted");
    expect(leave.log(b.id)).toBe(countFrame("counted", 1));
    expect(leave.log(a.id)).toBe("");
    expect(b.close().length).toBe(0);
  });

  it("should send the exact pusher_internal:subscription_count shape", () => {
    const c = newApp([Option.SubscriptionCount, 1]).connect();
    expect(c.subscribe("shape").frames(c.id)[1])
      .toBe("{\"event\":\"pusher_internal:subscription_count\",\"channel\":\"shape\",\"data\":\"{\\\"subscription_count\\\":1}\"}");
  });

  it("should count private channels too, but never presence channels", () => {
    const app = newApp([Option.SubscriptionCount, 1]);
    const c = app.connect();
    expect(c.subscribeSigned("private-counted").log(c.id))
      .toBe(succeededFrame("private-counted") + "\n" + countFrame("private-counted", 1));
    expect(c.subscribePresence("presence-uncounted", "{\"user_id\":1}").log(c.id))
      .toBe(presenceSucceededFrame("presence-uncounted", "{\"ids\":[1],\"hash\":{\"1\":null},\"count\":1}"));
  });

  it("should send the count at most once every 5 s above 100 subscribers, flushed on tick", () => {
    const app = newApp([Option.SubscriptionCount, 1]);
    const conns = new Array<Conn>();
    for (let i = 0; i < 100; i++) {
      const c = app.connect();
      conns.push(c);
      expect(c.subscribe("crowd").log(c.id)).toBe(succeededFrame("crowd") + "\n" + countFrame("crowd", i + 1));
    }
    const c101 = app.connect();
    conns.push(c101);
    const held = c101.subscribe("crowd");
    expect(held.log(c101.id)).toBe(succeededFrame("crowd"));
    expect(held.log(conns[0].id)).toBe("");
    advance(4999);
    expect(batch().tick().run().log(conns[0].id)).toBe("");
    advance(1);
    const flushed = batch().tick().run();
    expect(flushed.log(conns[0].id)).toBe(countFrame("crowd", 101));
    expect(flushed.log(c101.id)).toBe(countFrame("crowd", 101));
    expect(flushed.count(Action.Broadcast)).toBe(1);
    // Within the next 5 s, changes are held back again and sent once.
    const c102 = app.connect();
    expect(c102.subscribe("crowd").log(c102.id)).toBe(succeededFrame("crowd"));
    advance(1000);
    const c103 = app.connect();
    expect(c103.subscribe("crowd").log(c103.id)).toBe(succeededFrame("crowd"));
    advance(3999);
    expect(batch().tick().run().log(conns[0].id)).toBe("");
    advance(1);
    const second = batch().tick().run();
    expect(second.log(c103.id)).toBe(countFrame("crowd", 103));
    expect(second.log(conns[50].id)).toBe(countFrame("crowd", 103));
    advance(10000);
    expect(batch().tick().run().log(conns[0].id)).toBe("");
  });
});

describe("app isolation", () => {
  it("should never deliver one app's events to another app's subscribers", () => {
    const a = newApp();
    const b = newApp();
    const ca = a.connect();
    const cb = b.connect();
    ca.subscribe("shared");
    cb.subscribe("shared");
    const acts = a.publish("[\"shared\"]", "ev", "d", "");
    expect(acts.log(ca.id)).toBe(eventFrame("ev", "shared", "d"));
    expect(acts.log(cb.id)).toBe("");
  });

  it("should keep presence rosters per app", () => {
    const a = newApp();
    const b = newApp();
    const ca = a.connect();
    const cb = b.connect();
    ca.subscribePresence("presence-shared", "{\"user_id\":\"x\"}");
    const acts = cb.subscribePresence("presence-shared", "{\"user_id\":\"y\"}");
    expect(acts.log(ca.id)).toBe("");
    expect(acts.log(cb.id)).toBe(presenceSucceededFrame("presence-shared", "{\"ids\":[\"y\"],\"hash\":{\"y\":null},\"count\":1}"));
  });

  it("should refuse a private-channel signature made with another app's secret", () => {
    const a = newApp();
    const b = newApp();
    const cb = b.connect();
    const auth = b.key + ":" + hmacHex(a.secret, cb.socketId + ":private-x");
    expect(cb.send(subscribeMessage("private-x", auth, null)).log(cb.id))
      .toBe(subscriptionErrorFrame("private-x", "AuthError", "Invalid signature", 401));
  });

  it("should keep cached events per app", () => {
    const a = newApp();
    const b = newApp();
    a.publish("[\"cache-iso\"]", "ev", "d", "");
    const cb = b.connect();
    expect(cb.subscribe("cache-iso").log(cb.id)).toBe(succeededFrame("cache-iso") + "\n" + cacheMiss("cache-iso"));
  });
});

describe("auth fallback through the host's auth workers", () => {
  it("should ask the host with AUTH_REQUEST when a private subscribe has no auth", () => {
    const c = newApp([Option.AuthFallback, 1]).connect();
    const acts = c.send(subscribeMessage("private-orders", "", null));
    expect(acts.count(Action.AuthRequest)).toBe(1);
    expect(acts.list[0].id).toBe(c.id);
    expect(acts.list[0].text).toBe(c.socketId + " private-orders");
    expect(acts.log(c.id)).toBe("");
  });

  it("should not ask the host for public channels or when the app has no fallback", () => {
    const fallback = newApp([Option.AuthFallback, 1]).connect();
    expect(fallback.subscribe("news").count(Action.AuthRequest)).toBe(0);
    const plain = newApp().connect();
    expect(plain.send(subscribeMessage("private-orders", "", null)).count(Action.AuthRequest)).toBe(0);
  });

  it("should subscribe when the workers return a valid signature", () => {
    const app = newApp([Option.AuthFallback, 1]);
    const c = app.connect();
    c.send(subscribeMessage("private-orders", "", null));
    const body = "{\"auth\":" + q(app.auth(c.socketId + ":private-orders")) + "}";
    expect(batch().authResult(c.id, "private-orders", 200, body).run().log(c.id)).toBe(succeededFrame("private-orders"));
  });

  it("should join a presence channel with the channel_data the workers signed", () => {
    const app = newApp([Option.AuthFallback, 1]);
    const c = app.connect();
    const cd = "{\"user_id\":7,\"user_info\":{\"name\":\"Ann\"}}";
    const body = "{\"auth\":" + q(app.auth(c.socketId + ":presence-room:" + cd)) + ",\"channel_data\":" + q(cd) + "}";
    expect(batch().authResult(c.id, "presence-room", 200, body).run().log(c.id)).toBe(presenceSucceededFrame("presence-room",
      "{\"ids\":[7],\"hash\":{\"7\":{\"name\":\"Ann\"}},\"count\":1}"));
  });

  it("should refuse a wrong signature from the workers like one from the client", () => {
    const app = newApp([Option.AuthFallback, 1]);
    const c = app.connect();
    const body = "{\"auth\":" + q(app.auth("1.1:private-orders")) + "}";
    expect(batch().authResult(c.id, "private-orders", 200, body).run().log(c.id))
      .toBe(subscriptionErrorFrame("private-orders", "AuthError", "Invalid signature", 401));
  });

  it("should refuse with the workers' status when they failed, and never ask twice for that answer", () => {
    const c = newApp([Option.AuthFallback, 1]).connect();
    const acts = batch().authResult(c.id, "private-orders", 403, "").run();
    expect(acts.log(c.id)).toBe(subscriptionErrorFrame("private-orders", "AuthError",
      "The auth endpoint refused the subscription", 403));
    const empty = batch().authResult(c.id, "private-orders", 200, "{\"auth\":\"\"}").run();
    expect(empty.count(Action.AuthRequest)).toBe(0);
    expect(empty.log(c.id)).toBe(subscriptionErrorFrame("private-orders", "AuthError", "Missing auth signature", 401));
  });

  it("should tell busy, timed-out and failed workers apart from a refusal", () => {
    const c = newApp([Option.AuthFallback, 1]).connect();
    expect(batch().authResult(c.id, "private-a", 503, "").run().log(c.id)).toBe(subscriptionErrorFrame("private-a",
      "AuthError", "The auth workers are busy or unavailable: try again", 503));
    expect(batch().authResult(c.id, "private-b", 504, "").run().log(c.id)).toBe(subscriptionErrorFrame("private-b",
      "AuthError", "The auth workers did not answer in time", 504));
    expect(batch().authResult(c.id, "private-c", 200, "not json").run().log(c.id)).toBe(subscriptionErrorFrame("private-c",
      "AuthError", "The auth endpoint failed", 502));
  });

  it("should ignore an AUTH_RESULT without a status", () => {
    const c = newApp([Option.AuthFallback, 1]).connect();
    const b = new ArrayBuffer(3);
    store<u16>(changetype<usize>(b), 1);
    store<u8>(changetype<usize>(b) + 2, 0x61);
    expect(batch().rawRecord(<u8>Event.AuthResult, c.id, b).run().length).toBe(0);
  });
});
