// Webhook events on one node: what the engine reports (WEBHOOK actions) for
// an app whose Webhooks option asks for them, and that an app without it
// gets none. Other nodes' part is in cluster.spec.ts.

import { Action, Option } from "../abi";
import { advance, batch, newApp, TestApp } from "./engine.include";

/** All seven types: bits 1 to 7. */
const ALL: u32 = 0xfe;

function hookedApp(mask: u32 = ALL): TestApp {
  return newApp([<u32>Option.Webhooks, mask]);
}

describe("channel_occupied and channel_vacated", () => {
  it("should report the first subscription and the last departure, sent by this node", () => {
    const app = hookedApp();
    const a = app.connect();
    const b = app.connect();
    expect(a.subscribe("news").webhooks()).toBe(
      "L {\"name\":\"channel_occupied\",\"channel\":\"news\"}\n" +
      "L {\"name\":\"subscription_count\",\"channel\":\"news\",\"subscription_count\":1}");
    expect(b.subscribe("news").webhooks())
      .toBe("L {\"name\":\"subscription_count\",\"channel\":\"news\",\"subscription_count\":2}");
    expect(a.unsubscribe("news").webhooks())
      .toBe("L {\"name\":\"subscription_count\",\"channel\":\"news\",\"subscription_count\":1}");
    expect(b.close().webhooks()).toBe(
      "L {\"name\":\"channel_vacated\",\"channel\":\"news\"}\n" +
      "L {\"name\":\"subscription_count\",\"channel\":\"news\",\"subscription_count\":0}");
  });

  it("should report nothing for an app without webhooks", () => {
    const app = newApp();
    const a = app.connect();
    expect(a.subscribe("news").count(Action.Webhook)).toBe(0);
    expect(a.close().count(Action.Webhook)).toBe(0);
  });

  it("should report only the types the app asks for", () => {
    const app = hookedApp(1 << 6); // cache_miss
    const a = app.connect();
    expect(a.subscribe("news").webhooks()).toBe("");
    expect(a.subscribe("cache-news").webhooks()).toBe("L {\"name\":\"cache_miss\",\"channel\":\"cache-news\"}");
  });
});

describe("member_added and member_removed", () => {
  it("should report a user's first connection and last departure only, with its user_id as a string", () => {
    const app = hookedApp((1 << 3) | (1 << 4));
    const a = app.connect();
    const a2 = app.connect();
    expect(a.subscribePresence("presence-room", "{\"user_id\":7}").webhooks())
      .toBe("L {\"name\":\"member_added\",\"channel\":\"presence-room\",\"user_id\":\"7\"}");
    expect(a2.subscribePresence("presence-room", "{\"user_id\":7}").webhooks()).toBe("");
    expect(a.close().webhooks()).toBe("");
    expect(a2.unsubscribe("presence-room").webhooks())
      .toBe("L {\"name\":\"member_removed\",\"channel\":\"presence-room\",\"user_id\":\"7\"}");
  });

  it("should name the user in the record, so the host can pair a removal with a new arrival", () => {
    const app = hookedApp((1 << 3) | (1 << 4));
    const acts = app.connect().subscribePresence("presence-room", "{\"user_id\":\"ann\"}");
    expect(acts.list[acts.list.length - 1].socketId).toBe("ann");
  });

  it("should never report subscription_count on a presence channel", () => {
    const app = hookedApp(1 << 7);
    expect(app.connect().subscribePresence("presence-room", "{\"user_id\":1}").webhooks()).toBe("");
  });
});

describe("client_event", () => {
  it("should report the event, its data as a string, and the sender's socket_id", () => {
    const app = hookedApp(1 << 5);
    const a = app.connect();
    const b = app.connect();
    a.subscribeSigned("private-chat");
    b.subscribeSigned("private-chat");
    expect(a.trigger("private-chat", "client-typing", "{\"id\":1}").webhooks()).toBe(
      "L {\"name\":\"client_event\",\"channel\":\"private-chat\",\"event\":\"client-typing\"," +
      "\"data\":\"{\\\"id\\\":1}\",\"socket_id\":\"" + a.socketId + "\"}");
    expect(a.trigger("private-chat", "client-typing", "\"text\"").webhooks()).toBe(
      "L {\"name\":\"client_event\",\"channel\":\"private-chat\",\"event\":\"client-typing\"," +
      "\"data\":\"text\",\"socket_id\":\"" + a.socketId + "\"}");
  });

  it("should add the sender's user_id on presence channels", () => {
    const app = hookedApp(1 << 5);
    const a = app.connect();
    a.subscribePresence("presence-chat", "{\"user_id\":\"ann\"}");
    expect(a.trigger("presence-chat", "client-hi", "{}").webhooks()).toBe(
      "L {\"name\":\"client_event\",\"channel\":\"presence-chat\",\"event\":\"client-hi\"," +
      "\"data\":\"{}\",\"socket_id\":\"" + a.socketId + "\",\"user_id\":\"ann\"}");
  });

  it("should report no refused client event", () => {
    const app = hookedApp(1 << 5);
    const a = app.connect();
    a.subscribe("public");
    expect(a.trigger("public", "client-x", "{}").webhooks()).toBe("");
  });
});

describe("cache_miss", () => {
  it("should report a subscribe to a cache channel with nothing cached, and not one with a fresh event", () => {
    const app = hookedApp(1 << 6);
    expect(app.connect().subscribe("cache-news").webhooks()).toBe("L {\"name\":\"cache_miss\",\"channel\":\"cache-news\"}");
    app.publish("[\"cache-news\"]", "e", "1", "");
    expect(app.connect().subscribe("cache-news").webhooks()).toBe("");
  });
});

describe("subscription_count", () => {
  it("should report at most every 5 s above 100 subscriptions, then the count the wait left pending", () => {
    const app = hookedApp(1 << 7);
    for (let i = 0; i < 101; i++) app.connect().subscribe("crowd");
    const c = app.connect();
    expect(c.subscribe("crowd").webhooks()).toBe("");
    expect(app.connect().subscribe("crowd").webhooks()).toBe("");
    advance(5000);
    // The tick covers every app of the engine: keep this channel's lines.
    const lines = batch().tick().run().webhooks().split("\n").filter((l: string): bool => l.includes("\"crowd\""));
    expect(lines.join("\n")).toBe("L {\"name\":\"subscription_count\",\"channel\":\"crowd\",\"subscription_count\":103}");
  });
});
