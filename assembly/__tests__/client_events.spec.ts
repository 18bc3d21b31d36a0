// Client events (`client-*`) through the engine ABI: where they are accepted,
// who receives them, presence user_id, the per-connection rate limit and the
// per-app switch.

import { Action, Option } from "../abi";
import { advance, batch, Conn, errorFrame, newApp, rep, TestApp } from "./engine.include";

const TYPING = "{\"event\":\"client-typing\",\"channel\":\"private-chat\",\"data\":{\"id\":123,\"name\":\"Joe Dixon\"}}";

/** Two or more connections subscribed (signed) to `channel`. */
function room(app: TestApp, channel: string, n: i32): Array<Conn> {
  const r = new Array<Conn>();
  for (let i = 0; i < n; i++) {
    const c = app.connect();
    c.subscribeSigned(channel);
    r.push(c);
  }
  return r;
}

describe("delivery", () => {
  it("should relay a client event verbatim to the other subscribers of a private channel", () => {
    const r = room(newApp(), "private-chat", 3);
    const acts = r[0].send(TYPING);
    expect(acts.log(r[1].id)).toBe(TYPING);
    expect(acts.log(r[2].id)).toBe(TYPING);
    expect(acts.count(Action.Broadcast)).toBe(1);
  });

  it("should never echo a client event to its sender", () => {
    const r = room(newApp(), "private-chat", 2);
    const acts = r[0].send(TYPING);
    expect(acts.log(r[0].id)).toBe("");
    expect(acts.recipientsOf(TYPING)).toBe(r[1].id.toString());
  });

  it("should send nothing when the sender is alone on the channel", () => {
    const r = room(newApp(), "private-chat", 1);
    expect(r[0].send(TYPING).length).toBe(0);
  });

  it("should forward string data as the same JSON string", () => {
    const r = room(newApp(), "private-chat", 2);
    const msg = "{\"event\":\"client-say\",\"channel\":\"private-chat\",\"data\":\"hello \\\"you\\\"\"}";
    expect(r[0].send(msg).log(r[1].id)).toBe(msg);
  });

  it("should normalise the member order to event, channel, data", () => {
    const r = room(newApp(), "private-chat", 2);
    const acts = r[0].send("{\"data\":[1,2],\"channel\":\"private-chat\",\"event\":\"client-list\"}");
    expect(acts.log(r[1].id)).toBe("{\"event\":\"client-list\",\"channel\":\"private-chat\",\"data\":[1,2]}");
  });

  it("should add the sender's user_id on presence channels", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribePresence("presence-game", "{\"user_id\":\"alice\"}");
    b.subscribePresence("presence-game", "{\"user_id\":\"bob\"}");
    expect(a.trigger("presence-game", "client-move", "{\"x\":1}").log(b.id))
      .toBe("{\"event\":\"client-move\",\"channel\":\"presence-game\",\"data\":{\"x\":1},\"user_id\":\"alice\"}");
  });

  it("should give a numeric presence user_id as a string user_id", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribePresence("presence-game", "{\"user_id\":7}");
    b.subscribePresence("presence-game", "{\"user_id\":8}");
    expect(a.trigger("presence-game", "client-move", "{}").log(b.id))
      .toBe("{\"event\":\"client-move\",\"channel\":\"presence-game\",\"data\":{},\"user_id\":\"7\"}");
  });

  it("should not add user_id on private channels", () => {
    const r = room(newApp(), "private-chat", 2);
    expect(r[0].trigger("private-chat", "client-x", "1").log(r[1].id))
      .toBe("{\"event\":\"client-x\",\"channel\":\"private-chat\",\"data\":1}");
  });
});

describe("where client events are refused", () => {
  it("should refuse client events on public channels with 4301", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    a.subscribe("public-chat");
    b.subscribe("public-chat");
    const acts = a.trigger("public-chat", "client-x", "{}");
    expect(acts.log(a.id)).toBe(errorFrame(4301, "Client events are only accepted on private and presence channels"));
    expect(acts.log(b.id)).toBe("");
    expect(acts.closeCode(a.id)).toBe(-1);
  });

  it("should refuse client events on private-encrypted channels with 4301", () => {
    const r = room(newApp(), "private-encrypted-chat", 2);
    const acts = r[0].trigger("private-encrypted-chat", "client-x", "{}");
    expect(acts.log(r[0].id)).toBe(errorFrame(4301, "Client events are only accepted on private and presence channels"));
    expect(acts.log(r[1].id)).toBe("");
  });

  it("should refuse client events on public cache channels", () => {
    const app = newApp();
    const a = app.connect();
    a.subscribe("cache-chat");
    expect(a.trigger("cache-chat", "client-x", "{}").log(a.id))
      .toBe(errorFrame(4301, "Client events are only accepted on private and presence channels"));
  });

  it("should refuse client events on the sender's #server-to-user- channel", () => {
    const a = newApp().connect();
    a.signin("{\"id\":\"u1\"}");
    a.subscribe("#server-to-user-u1");
    expect(a.trigger("#server-to-user-u1", "client-x", "{}").log(a.id))
      .toBe(errorFrame(4301, "Client events are only accepted on private and presence channels"));
  });

  it("should refuse a client event from a connection not subscribed to the channel with 4009", () => {
    const app = newApp();
    const r = room(app, "private-chat", 2);
    const outsider = app.connect();
    const acts = outsider.send(TYPING);
    expect(acts.log(outsider.id)).toBe(errorFrame(4009, "The client is not a member of the specified channel"));
    expect(acts.log(r[0].id)).toBe("");
    expect(acts.log(r[1].id)).toBe("");
    expect(acts.closeCode(outsider.id)).toBe(-1);
  });

  it("should refuse a client event after the sender unsubscribed", () => {
    const r = room(newApp(), "private-chat", 2);
    r[0].unsubscribe("private-chat");
    expect(r[0].send(TYPING).log(r[1].id)).toBe("");
  });

  it("should refuse a client event without a channel with 4200", () => {
    const c = newApp().connect();
    expect(c.send("{\"event\":\"client-x\",\"data\":{}}").log(c.id)).toBe(errorFrame(4200, "Client events need a channel"));
  });

  it("should refuse event names over 200 characters and accept 200", () => {
    const r = room(newApp(), "private-chat", 2);
    const long = "client-" + rep("e", 194);
    expect(r[0].trigger("private-chat", long, "{}").log(r[0].id)).toBe(errorFrame(4301, "Event names are at most 200 characters"));
    const max = "client-" + rep("e", 193);
    expect(r[0].trigger("private-chat", max, "{}").log(r[1].id))
      .toBe("{\"event\":\"" + max + "\",\"channel\":\"private-chat\",\"data\":{}}");
  });

  it("should count an escaped event name's length as decoded (RFC 8259 §7)", () => {
    const r = room(newApp(), "private-chat", 2);
    // 200 characters once decoded, 1,165 as sent: accepted, and forwarded as sent.
    const escaped = "client-" + rep("\\u0065", 193);
    const frame = "{\"event\":\"" + escaped + "\",\"channel\":\"private-chat\",\"data\":{}}";
    expect(r[0].send(frame).log(r[1].id)).toBe(frame);
    const over = "{\"event\":\"" + escaped + "\\u0065\",\"channel\":\"private-chat\",\"data\":{}}";
    expect(r[0].send(over).log(r[0].id)).toBe(errorFrame(4301, "Event names are at most 200 characters"));
  });

  it("should refuse every client event when the app disables them", () => {
    const app = newApp([Option.ClientEvents, 0]);
    const r = room(app, "private-chat", 2);
    const acts = r[0].send(TYPING);
    expect(acts.log(r[0].id)).toBe(errorFrame(4301, "Client events are disabled for this app"));
    expect(acts.log(r[1].id)).toBe("");
  });

  it("should accept client events when the app enables them explicitly", () => {
    const r = room(newApp([Option.ClientEvents, 1]), "private-chat", 2);
    expect(r[0].send(TYPING).log(r[1].id)).toBe(TYPING);
  });
});

describe("rate limit", () => {
  it("should accept 10 client events at once and refuse the 11th with 4301", () => {
    const r = room(newApp(), "private-chat", 2);
    const b = batch();
    for (let i = 0; i < 11; i++) b.message(r[0].id, TYPING);
    const acts = b.run();
    expect(acts.frames(r[1].id)).toHaveLength(10);
    expect(acts.log(r[0].id)).toBe(errorFrame(4301, "Rate limit exceeded"));
    expect(acts.closeCode(r[0].id)).toBe(-1);
  });

  it("should refill tokens with the clock: one per 100 ms at 10/s", () => {
    const r = room(newApp(), "private-chat", 2);
    const b = batch();
    for (let i = 0; i < 10; i++) b.message(r[0].id, TYPING);
    expect(b.run().frames(r[1].id)).toHaveLength(10);
    expect(r[0].send(TYPING).log(r[0].id)).toBe(errorFrame(4301, "Rate limit exceeded"));
    advance(99);
    expect(r[0].send(TYPING).log(r[1].id)).toBe("");
    advance(1);
    expect(r[0].send(TYPING).log(r[1].id)).toBe(TYPING);
    expect(r[0].send(TYPING).log(r[0].id)).toBe(errorFrame(4301, "Rate limit exceeded"));
  });

  it("should cap the bucket at one second's worth of events", () => {
    const r = room(newApp(), "private-chat", 2);
    advance(60000);
    const b = batch();
    for (let i = 0; i < 12; i++) b.message(r[0].id, TYPING);
    const acts = b.run();
    expect(acts.frames(r[1].id)).toHaveLength(10);
    expect(acts.frames(r[0].id)).toHaveLength(2);
  });

  it("should use the app's client event rate", () => {
    const r = room(newApp([Option.ClientEventRate, 2]), "private-chat", 2);
    const b = batch();
    for (let i = 0; i < 3; i++) b.message(r[0].id, TYPING);
    const acts = b.run();
    expect(acts.frames(r[1].id)).toHaveLength(2);
    expect(acts.log(r[0].id)).toBe(errorFrame(4301, "Rate limit exceeded"));
    advance(500);
    expect(r[0].send(TYPING).log(r[1].id)).toBe(TYPING);
  });

  it("should limit each connection on its own", () => {
    const r = room(newApp(), "private-chat", 3);
    const b = batch();
    for (let i = 0; i < 11; i++) b.message(r[0].id, TYPING);
    b.run();
    expect(r[1].send(TYPING).log(r[2].id)).toBe(TYPING);
  });
});
