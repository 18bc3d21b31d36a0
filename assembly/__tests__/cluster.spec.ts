// Presence across nodes: the MemberAdded / MemberRemoved relay records an
// app with option Relay emits, the members other nodes relay (REMOTE from a
// node number), NODE_GONE and SYNC.

import { Option } from "../abi";
import {
  batch, eventFrame, expectOneOf, newApp, presenceSucceededFrame, subscriptionErrorFrame, TestApp, utf8,
} from "./engine.include";

function relayingApp(options: Array<u32> = []): TestApp {
  options.push(<u32>Option.Relay);
  options.push(1);
  return newApp(options);
}

function memberAdded(channel: string, json: string): string {
  return eventFrame("pusher_internal:member_added", channel, json);
}

function memberRemoved(channel: string, json: string): string {
  return eventFrame("pusher_internal:member_removed", channel, json);
}

/** A MemberAdded (with `idJson`) or MemberRemoved (idJson null) relay record. */
function memberRecord(appId: string, channel: string, key: string, idJson: string | null, info: string = ""): ArrayBuffer {
  const parts = [utf8(appId), utf8(channel), utf8(key)];
  if (idJson != null) parts.push(utf8(idJson));
  const tail = utf8(idJson != null ? info : "");
  let n = 1 + tail.byteLength;
  for (let i = 0; i < parts.length; i++) n += 2 + parts[i].byteLength;
  const b = new ArrayBuffer(n);
  let p = changetype<usize>(b);
  store<u8>(p++, idJson != null ? 3 : 4);
  for (let i = 0; i < parts.length; i++) {
    store<u16>(p, <u16>parts[i].byteLength);
    memory.copy(p + 2, changetype<usize>(parts[i]), <usize>parts[i].byteLength);
    p += 2 + <usize>parts[i].byteLength;
  }
  memory.copy(p, changetype<usize>(tail), <usize>tail.byteLength);
  return b;
}

/** A ChannelCount relay record: `count` subscriptions to `channel` on the sending node. */
function countRecord(appId: string, channel: string, count: u32): ArrayBuffer {
  const a = utf8(appId);
  const c = utf8(channel);
  const b = new ArrayBuffer(1 + 2 + a.byteLength + 2 + c.byteLength + 4);
  let p = changetype<usize>(b);
  store<u8>(p, 5);
  store<u16>(p + 1, <u16>a.byteLength);
  memory.copy(p + 3, changetype<usize>(a), <usize>a.byteLength);
  p += 3 + <usize>a.byteLength;
  store<u16>(p, <u16>c.byteLength);
  memory.copy(p + 2, changetype<usize>(c), <usize>c.byteLength);
  store<u32>(p + 2 + <usize>c.byteLength, count);
  return b;
}

function countFrame(channel: string, n: i32): string {
  return eventFrame("pusher_internal:subscription_count", channel, "{\"subscription_count\":" + n.toString() + "}");
}

/** Node `node` relays that `user` joined `channel` there. */
function added(app: TestApp, channel: string, user: string, node: u32, info: string = "{\"n\":1}"): void {
  batch().remote(memberRecord(app.id, channel, user, "\"" + user + "\"", info), node).run();
}

describe("relaying presence members", () => {
  it("should relay a user's first connection to a presence channel and its last departure, not the others", () => {
    const app = relayingApp();
    const a = app.connect();
    const a2 = app.connect();
    const first = a.subscribePresence("presence-room", "{\"user_id\":\"u1\",\"user_info\":{\"n\":1}}").relays();
    expect(first.length).toBe(1);
    expect(first[0].code).toBe(-3);
    expect(first[0].channel).toBe("presence-room");
    expect(first[0].text).toBe("u1 \"u1\" {\"n\":1}");
    expect(a2.subscribePresence("presence-room", "{\"user_id\":\"u1\"}").relays().length).toBe(0);
    expect(a.unsubscribe("presence-room").relays().length).toBe(0);
    const last = a2.close().relays();
    expect(last.length).toBe(1);
    expect(last[0].code).toBe(-4);
    expect(last[0].text).toBe("u1");
  });

  it("should relay nothing about presence for an app without the Relay option", () => {
    const app = newApp();
    const a = app.connect();
    expect(a.subscribePresence("presence-room", "{\"user_id\":1}").relays().length).toBe(0);
    expect(a.close().relays().length).toBe(0);
  });

  it("should relay on SYNC every member present here, and no member of another node", () => {
    const app = relayingApp();
    app.connect().subscribePresence("presence-a", "{\"user_id\":1}");
    app.connect().subscribePresence("presence-b", "{\"user_id\":\"x\",\"user_info\":\"X\"}");
    added(app, "presence-a", "remote", 5);
    // SYNC covers every app of the engine: keep this test's channels.
    const all = batch().sync().run().relays();
    const texts = new Array<string>();
    for (let i = 0; i < all.length; i++) {
      if (all[i].channel == "presence-a" || all[i].channel == "presence-b") texts.push(all[i].channel + " " + all[i].text);
    }
    texts.sort();
    expect(texts.join("|")).toBe("presence-a 1 1 |presence-b x \"x\" \"X\"");
  });
});

describe("members of other nodes", () => {
  it("should list them in subscription_succeeded, with the members here", () => {
    const app = relayingApp();
    added(app, "presence-room", "r1", 1, "{\"name\":\"R\"}");
    const c = app.connect();
    expectOneOf(c.subscribePresence("presence-room", "{\"user_id\":\"l1\"}").log(c.id), [
      presenceSucceededFrame("presence-room", "{\"ids\":[\"r1\",\"l1\"],\"hash\":{\"r1\":{\"name\":\"R\"},\"l1\":null},\"count\":2}"),
      presenceSucceededFrame("presence-room", "{\"ids\":[\"l1\",\"r1\"],\"hash\":{\"l1\":null,\"r1\":{\"name\":\"R\"}},\"count\":2}"),
    ]);
  });

  it("should announce a user with member_added when it appears on its first node, and member_removed when it leaves its last", () => {
    const app = relayingApp();
    const c = app.connect();
    c.subscribePresence("presence-room", "{\"user_id\":\"l1\"}");
    const join = batch().remote(memberRecord(app.id, "presence-room", "r1", "\"r1\"", "{\"a\":1}"), 1).run();
    expect(join.log(c.id)).toBe(memberAdded("presence-room", "{\"user_id\":\"r1\",\"user_info\":{\"a\":1}}"));
    expect(join.relays().length).toBe(0);
    expect(batch().remote(memberRecord(app.id, "presence-room", "r1", "\"r1\"", "{\"a\":1}"), 2).run().log(c.id)).toBe("");
    expect(batch().remote(memberRecord(app.id, "presence-room", "r1", null), 1).run().log(c.id)).toBe("");
    expect(batch().remote(memberRecord(app.id, "presence-room", "r1", null), 2).run().log(c.id))
      .toBe(memberRemoved("presence-room", "{\"user_id\":\"r1\"}"));
  });

  it("should not announce a user here who is already present on another node, nor its departure from here", () => {
    const app = relayingApp();
    const watcher = app.connect();
    watcher.subscribePresence("presence-room", "{\"user_id\":\"w\"}");
    added(app, "presence-room", "u1", 1);
    const u1 = app.connect();
    const joined = u1.subscribePresence("presence-room", "{\"user_id\":\"u1\",\"user_info\":{\"n\":1}}");
    expect(joined.log(watcher.id)).toBe("");
    expect(joined.relays().length).toBe(1);
    const left = u1.close();
    expect(left.log(watcher.id)).toBe("");
    expect(left.relays()[0].code).toBe(-4);
    expect(batch().remote(memberRecord(app.id, "presence-room", "u1", null), 1).run().log(watcher.id))
      .toBe(memberRemoved("presence-room", "{\"user_id\":\"u1\"}"));
  });

  it("should remove the members of a node that is gone, unless another node still has them", () => {
    const app = relayingApp();
    const c = app.connect();
    c.subscribePresence("presence-room", "{\"user_id\":\"l1\"}");
    added(app, "presence-room", "only3", 3);
    added(app, "presence-room", "both", 3);
    added(app, "presence-room", "both", 4);
    expect(batch().nodeGone(3).run().log(c.id)).toBe(memberRemoved("presence-room", "{\"user_id\":\"only3\"}"));
    expect(batch().nodeGone(3).run().length).toBe(0);
    expect(batch().nodeGone(4).run().log(c.id)).toBe(memberRemoved("presence-room", "{\"user_id\":\"both\"}"));
  });

  it("should count them toward max_presence_members", () => {
    const app = relayingApp([<u32>Option.MaxPresenceMembers, 2]);
    added(app, "presence-full", "r1", 1);
    added(app, "presence-full", "r2", 2);
    const c = app.connect();
    expect(c.subscribePresence("presence-full", "{\"user_id\":\"l1\"}").log(c.id))
      .toBe(subscriptionErrorFrame("presence-full", "LimitReached", "The presence channel is full", 4100));
    expect(c.subscribePresence("presence-full", "{\"user_id\":\"r1\"}").relays().length).toBe(1);
  });

  it("should report them in the HTTP API's users and user_count, and forget the channel once they leave", () => {
    const app = relayingApp();
    added(app, "presence-room", "r1", 1);
    expect(app.get("/channels/presence-room/users", "").body()).toBe("{\"users\":[{\"id\":\"r1\"}]}");
    expect(app.get("/channels/presence-room", "info=user_count").body()).toBe("{\"occupied\":false,\"user_count\":1}");
    batch().remote(memberRecord(app.id, "presence-room", "r1", null), 1).run();
    expect(app.get("/channels/presence-room/users", "").body()).toBe("{\"users\":[]}");
    expect(app.get("/channels/presence-room", "info=user_count").body()).toBe("{\"occupied\":false,\"user_count\":0}");
  });

  it("should ignore malformed member records", () => {
    const app = relayingApp();
    const c = app.connect();
    c.subscribePresence("presence-room", "{\"user_id\":\"l1\"}");
    const good = memberRecord(app.id, "presence-room", "r1", "\"r1\"", "{}");
    const b = batch();
    for (let n = 0; n < good.byteLength - 2; n++) b.remote(good.slice(0, n), 1);
    b.remote(memberRecord(app.id, "private-room", "r1", "\"r1\""), 1);
    b.remote(memberRecord(app.id, "presence-room", "", "\"r1\""), 1);
    b.remote(memberRecord(app.id, "presence-room", "r1", "not json"), 1);
    b.remote(memberRecord(app.id, "presence-room", "r1", "\"r1\"", "{broken"), 1);
    b.remote(memberRecord("no-such-app", "presence-room", "r1", "\"r1\""), 1);
    expect(b.run().log(c.id)).toBe("");
    expect(app.get("/channels/presence-room/users", "").body()).toBe("{\"users\":[{\"id\":\"l1\"}]}");
  });
});

describe("subscription counts across nodes", () => {
  it("should relay this node's count of a channel whenever it changes, and none for #server-to-user-", () => {
    const app = relayingApp();
    const a = app.connect();
    const b = app.connect();
    expect(a.subscribe("news").countRelays()).toBe("news 1");
    expect(b.subscribe("news").countRelays()).toBe("news 2");
    expect(a.unsubscribe("news").countRelays()).toBe("news 1");
    expect(b.close().countRelays()).toBe("news 0");
    expect(app.connect().signin("{\"id\":\"u1\"}").countRelays()).toBe("");
  });

  it("should add other nodes' subscriptions to subscription_count, the HTTP API's counts, occupied and channel list", () => {
    const app = relayingApp([<u32>Option.SubscriptionCount, 1]);
    const c = app.connect();
    c.subscribe("news");
    expect(batch().remote(countRecord(app.id, "news", 5), 1).run().log(c.id)).toBe(countFrame("news", 6));
    batch().remote(countRecord(app.id, "elsewhere", 2), 2).run();
    expect(app.get("/channels/news", "info=subscription_count").body()).toBe("{\"occupied\":true,\"subscription_count\":6}");
    expect(app.get("/channels/elsewhere", "info=subscription_count").body()).toBe("{\"occupied\":true,\"subscription_count\":2}");
    expectOneOf(app.get("/channels", "").body(), ["{\"channels\":{\"news\":{},\"elsewhere\":{}}}", "{\"channels\":{\"elsewhere\":{},\"news\":{}}}"]);
  });

  it("should forget a gone node's subscriptions, and a channel nobody subscribes to anymore", () => {
    const app = relayingApp([<u32>Option.SubscriptionCount, 1]);
    const c = app.connect();
    c.subscribe("news");
    batch().remote(countRecord(app.id, "news", 5), 1).run();
    batch().remote(countRecord(app.id, "elsewhere", 2), 1).run();
    expect(batch().nodeGone(1).run().log(c.id)).toBe(countFrame("news", 1));
    expect(app.get("/channels", "").body()).toBe("{\"channels\":{\"news\":{}}}");
    expect(app.get("/channels/elsewhere", "info=subscription_count").body()).toBe("{\"occupied\":false,\"subscription_count\":0}");
    batch().remote(countRecord(app.id, "news", 3), 2).run();
    batch().remote(countRecord(app.id, "news", 0), 2).run();
    expect(app.get("/channels/news", "info=subscription_count").body()).toBe("{\"occupied\":true,\"subscription_count\":1}");
  });

  it("should relay on SYNC the count of every channel with subscriptions here", () => {
    const app = relayingApp();
    app.connect().subscribe("sync-a");
    app.connect().subscribe("sync-a");
    app.connect().subscribe("sync-b");
    batch().remote(countRecord(app.id, "sync-c", 4), 1).run();
    // SYNC covers every app of the engine: keep this test's channels.
    const counts = batch().sync().run().countRelays().split(",").filter((c: string): bool => c.startsWith("sync-"));
    counts.sort();
    expect(counts.join(",")).toBe("sync-a 2,sync-b 1");
  });

  it("should ignore malformed count records", () => {
    const app = relayingApp();
    const good = countRecord(app.id, "news", 3);
    const b = batch();
    for (let n = 0; n < good.byteLength; n++) b.remote(good.slice(0, n), 1);
    b.remote(countRecord(app.id, "bad name", 3), 1);
    b.remote(countRecord(app.id, "#server-to-user-u1", 3), 1);
    b.run();
    expect(app.get("/channels", "").body()).toBe("{\"channels\":{}}");
  });
});

/** Reports channel_occupied, channel_vacated, member_added and member_removed. */
function hooked(): TestApp {
  return relayingApp([<u32>Option.Webhooks, 0x1e]);
}

describe("webhooks across nodes", () => {
  it("should report an arrival another node caused unflagged (that node sends it), and every departure as its own", () => {
    const app = hooked();
    expect(batch().remote(countRecord(app.id, "news", 2), 1).run().webhooks())
      .toBe("R {\"name\":\"channel_occupied\",\"channel\":\"news\"}");
    const c = app.connect();
    expect(c.subscribe("news").webhooks()).toBe("");
    expect(c.close().webhooks()).toBe("");
    expect(batch().remote(countRecord(app.id, "news", 0), 1).run().webhooks())
      .toBe("L {\"name\":\"channel_vacated\",\"channel\":\"news\"}");
    expect(batch().remote(memberRecord(app.id, "presence-room", "r1", "\"r1\""), 1).run().webhooks())
      .toBe("R {\"name\":\"member_added\",\"channel\":\"presence-room\",\"user_id\":\"r1\"}");
    expect(batch().remote(memberRecord(app.id, "presence-room", "r1", null), 1).run().webhooks())
      .toBe("L {\"name\":\"member_removed\",\"channel\":\"presence-room\",\"user_id\":\"r1\"}");
  });

  it("should not report channel_vacated here while another node still has subscribers", () => {
    const app = hooked();
    const c = app.connect();
    expect(c.subscribe("shared").webhooks()).toBe("L {\"name\":\"channel_occupied\",\"channel\":\"shared\"}");
    batch().remote(countRecord(app.id, "shared", 1), 2).run();
    expect(c.close().webhooks()).toBe("");
  });

  it("should report what a departed node leaves behind as this node's, for the cluster-wide claim", () => {
    const app = hooked();
    batch().remote(countRecord(app.id, "orphan", 1), 7).run();
    batch().remote(memberRecord(app.id, "presence-orphan", "u9", "\"u9\""), 7).run();
    const lines = batch().nodeGone(7).run().webhooks().split("\n")
      .filter((l: string): bool => l.includes("orphan"));
    lines.sort();
    expect(lines.join("\n")).toBe(
      "L {\"name\":\"channel_vacated\",\"channel\":\"orphan\"}\n" +
      "L {\"name\":\"member_removed\",\"channel\":\"presence-orphan\",\"user_id\":\"u9\"}");
  });
});
