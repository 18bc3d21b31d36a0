// The PUBLISH event record (native PHP publish, later other nodes) and its
// PUBLISH_RESULT codes: 0 accepted, 1 unknown app, 2 bad channel, 3 bad event
// name, 7 malformed record. A refused publish delivers nothing.

import { Action, Event } from "../abi";
import { batch, Conn, eventFrame, newApp, q, rep, succeededFrame, TestApp } from "./engine.include";

function subscriber(app: TestApp, channel: string): Conn {
  const c = app.connect();
  expect(c.subscribe(channel).log(c.id)).toBe(succeededFrame(channel));
  return c;
}

/** A PUBLISH record whose payload is `bytes` exactly. */
function rawPublish(bytes: Array<u8>): string {
  const b = new ArrayBuffer(bytes.length);
  for (let i = 0; i < bytes.length; i++) store<u8>(changetype<usize>(b) + <usize>i, bytes[i]);
  return batch().rawRecord(<u8>Event.Publish, 0, b).run().publishCodes();
}

/** Little-endian bytes of a u16 length followed by the ASCII text. */
function str16(s: string, into: Array<u8>): void {
  into.push(<u8>(s.length & 0xff));
  into.push(<u8>(s.length >> 8));
  for (let i = 0; i < s.length; i++) into.push(<u8>s.charCodeAt(i));
}

function str32(s: string, into: Array<u8>): void {
  into.push(<u8>(s.length & 0xff));
  into.push(<u8>((s.length >> 8) & 0xff));
  into.push(<u8>((s.length >> 16) & 0xff));
  into.push(<u8>(s.length >> 24));
  for (let i = 0; i < s.length; i++) into.push(<u8>s.charCodeAt(i));
}

describe("accepted publishes", () => {
  it("should deliver the event and answer PUBLISH_RESULT 0", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const acts = app.publish("[\"news\"]", "my-event", "{\"a\":1}", "");
    expect(acts.publishCodes()).toBe("0");
    expect(acts.count(Action.PublishResult)).toBe(1);
    expect(acts.log(c.id)).toBe("{\"event\":\"my-event\",\"channel\":\"news\",\"data\":\"{\\\"a\\\":1}\"}");
  });

  it("should answer 0 for a channel nobody is subscribed to", () => {
    const app = newApp();
    const acts = app.publish("[\"empty\"]", "e", "d", "");
    expect(acts.publishCodes()).toBe("0");
    expect(acts.deliveries()).toBe(0);
  });

  it("should escape plain data and event names into JSON strings", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const data = "line\nbreak \"quoted\" back\\slash tab\t caf\u00e9";
    expect(app.publish("[\"news\"]", "ev\"x", data, "").log(c.id)).toBe(eventFrame("ev\"x", "news", data));
  });

  it("should deliver to every channel of the list", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const b = subscriber(app, "sport");
    const acts = app.publish("[\"news\",\"sport\"]", "e", "d", "");
    expect(acts.log(a.id)).toBe(eventFrame("e", "news", "d"));
    expect(acts.log(b.id)).toBe(eventFrame("e", "sport", "d"));
  });

  it("should leave out the connection of the socket id", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const b = subscriber(app, "news");
    const acts = app.publish("[\"news\"]", "e", "d", a.socketId);
    expect(acts.publishCodes()).toBe("0");
    expect(acts.log(a.id)).toBe("");
    expect(acts.log(b.id)).toBe(eventFrame("e", "news", "d"));
  });

  it("should leave nobody out for a socket id that names no connection", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const acts = app.publish("[\"news\"]", "e", "d", "1.4000000");
    expect(acts.publishCodes()).toBe("0");
    expect(acts.log(a.id)).toBe(eventFrame("e", "news", "d"));
  });

  it("should accept an event name of 200 characters", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const name = rep("e", 200);
    expect(app.publish("[\"news\"]", name, "d", "").log(c.id)).toBe(eventFrame(name, "news", "d"));
  });

  it("should answer one result per publish record, in order", () => {
    const app = newApp();
    const acts = batch()
      .publish(app.id, "[\"a\"]", "e", "d", "")
      .publish("no-such-app", "[\"a\"]", "e", "d", "")
      .publish(app.id, "[\"bad name\"]", "e", "d", "")
      .publish(app.id, "[\"a\"]", "", "d", "")
      .publish(app.id, "[\"a\"]", "e", "d", "")
      .run();
    expect(acts.publishCodes()).toBe("0,1,2,3,0");
  });

  it("should take the same path as HTTP: cache channels keep the event", () => {
    const app = newApp();
    app.publish("[\"cache-n\"]", "e", "d", "");
    const c = app.connect();
    expect(c.subscribe("cache-n").log(c.id)).toBe(succeededFrame("cache-n") + "\n" + eventFrame("e", "cache-n", "d"));
  });
});

describe("refused publishes", () => {
  it("should answer 1 for an unknown app id and deliver nothing", () => {
    const app = newApp();
    subscriber(app, "news");
    const acts = batch().publish("nope", "[\"news\"]", "e", "d", "").run();
    expect(acts.publishCodes()).toBe("1");
    expect(acts.deliveries()).toBe(0);
  });

  it("should answer 2 for an invalid channel name and deliver to none of the channels", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const acts = app.publish("[\"news\",\"bad name\"]", "e", "d", "");
    expect(acts.publishCodes()).toBe("2");
    expect(acts.log(c.id)).toBe("");
    expect(app.publish("[" + q(rep("c", 201)) + "]", "e", "d", "").publishCodes()).toBe("2");
    expect(app.publish("[\"#news\"]", "e", "d", "").publishCodes()).toBe("2");
    expect(app.publish("[\"\"]", "e", "d", "").publishCodes()).toBe("2");
  });

  it("should answer 2 for a channel list entry that is not a plain string", () => {
    const app = newApp();
    expect(app.publish("[42]", "e", "d", "").publishCodes()).toBe("2");
    expect(app.publish("[\"ne\\u0077s/\"]", "e", "d", "").publishCodes()).toBe("2");
  });

  it("should answer 3 for an empty or over-long event name and deliver nothing", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const empty = app.publish("[\"news\"]", "", "d", "");
    expect(empty.publishCodes()).toBe("3");
    expect(empty.log(c.id)).toBe("");
    const long = app.publish("[\"news\"]", rep("e", 201), "d", "");
    expect(long.publishCodes()).toBe("3");
    expect(long.log(c.id)).toBe("");
  });

  it("should answer 7 when channels is not a JSON array", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const acts = app.publish("\"news\"", "e", "d", "");
    expect(acts.publishCodes()).toBe("7");
    expect(acts.log(c.id)).toBe("");
    expect(app.publish("[\"news\"", "e", "d", "").publishCodes()).toBe("7");
    expect(app.publish("", "e", "d", "").publishCodes()).toBe("7");
  });

  it("should answer 7 for a truncated record", () => {
    const app = newApp();
    const full = new Array<u8>();
    str16(app.id, full);
    str32("[\"news\"]", full);
    str16("e", full);
    str32("d", full);
    str16("", full);
    expect(rawPublish(full)).toBe("0");
    for (let cut = 0; cut < full.length; cut++) {
      expect(rawPublish(full.slice(0, cut))).toBe("7", "cut at " + cut.toString());
    }
  });

  it("should answer 7 for lengths that run past the record", () => {
    const app = newApp();
    const bytes = new Array<u8>();
    str16(app.id, bytes);
    bytes.push(0xff);
    bytes.push(0xff);
    bytes.push(0xff);
    bytes.push(0x0f);
    expect(rawPublish(bytes)).toBe("7");
  });
});
