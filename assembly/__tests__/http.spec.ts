// The signed Pusher HTTP API through the engine ABI: authentication, events,
// batches, channel queries, users, connections and termination. Every refused
// request is also checked to deliver nothing.

import { Event, Option } from "../abi";
import {
  Actions, advance, batch, closeEntry, Conn, errorFrame, eventFrame, expectOneOf, hmacHex as hmacOf, md5Hex, newApp, newReqId,
  nowSeconds, q, rep, TestApp,
} from "./engine.include";

function httpError(status: i32, message: string): string {
  return "{\"error\":" + q(message) + ",\"code\":" + status.toString() + "}";
}

/** A request with a query string built by the test. */
function raw(method: string, path: string, query: string, body: string): Actions {
  return batch().http(newReqId(), method, path, query, body).run();
}

/** A publish body for one channel. */
function event(name: string, channel: string, data: string): string {
  return "{\"name\":" + q(name) + ",\"channel\":" + q(channel) + ",\"data\":" + q(data) + "}";
}

/** A connection subscribed to `channel` (signed when the channel needs it). */
function subscriber(app: TestApp, channel: string): Conn {
  const c = app.connect();
  if (channel.startsWith("private-")) c.subscribeSigned(channel);
  else c.subscribe(channel);
  return c;
}

function member(app: TestApp, channel: string, userId: string): Conn {
  const c = app.connect();
  c.subscribePresence(channel, "{\"user_id\":" + userId + "}");
  return c;
}

describe("POST /apps/{id}/events", () => {
  it("should deliver the event to the channel's subscribers and answer 200 {}", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const acts = app.post("/events", event("my-event", "news", "{\"a\":1}"));
    expect(acts.status()).toBe(200);
    expect(acts.body()).toBe("{}");
    expect(acts.log(c.id)).toBe("{\"event\":\"my-event\",\"channel\":\"news\",\"data\":\"{\\\"a\\\":1}\"}");
  });

  it("should encode a publish once for all the subscribers of a channel", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const b = subscriber(app, "news");
    const acts = app.post("/events", event("e", "news", "d"));
    expect(acts.recipientsOf(eventFrame("e", "news", "d"))).toBe(a.id.toString() + "," + b.id.toString());
    expect(acts.length).toBe(2); // one BROADCAST, one HTTP_RESPONSE
  });

  it("should deliver to every channel of a channels list", () => {
    const app = newApp();
    const n = subscriber(app, "news");
    const s = subscriber(app, "sport");
    const both = subscriber(app, "news");
    both.subscribe("sport");
    const acts = app.post("/events", "{\"name\":\"e\",\"channels\":[\"news\",\"sport\"],\"data\":\"d\"}");
    expect(acts.status()).toBe(200);
    expect(acts.log(n.id)).toBe(eventFrame("e", "news", "d"));
    expect(acts.log(s.id)).toBe(eventFrame("e", "sport", "d"));
    expect(acts.log(both.id)).toBe(eventFrame("e", "news", "d") + "\n" + eventFrame("e", "sport", "d"));
  });

  it("should leave out the connection named by socket_id", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const b = subscriber(app, "news");
    const acts = app.post("/events", "{\"name\":\"e\",\"channel\":\"news\",\"data\":\"d\",\"socket_id\":" + q(a.socketId) + "}");
    expect(acts.status()).toBe(200);
    expect(acts.log(a.id)).toBe("");
    expect(acts.log(b.id)).toBe(eventFrame("e", "news", "d"));
  });

  it("should leave nobody out for a well-formed socket_id that names no connection", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const stale = a.socketId.substring(0, a.socketId.indexOf(".")) + "0." + a.id.toString();
    const acts = app.post("/events", "{\"name\":\"e\",\"channel\":\"news\",\"data\":\"d\",\"socket_id\":" + q(stale) + "}");
    expect(acts.log(a.id)).toBe(eventFrame("e", "news", "d"));
  });

  it("should not exclude a new connection that reuses a closed connection's id", () => {
    const app = newApp();
    const old = subscriber(app, "news");
    old.close();
    const reused = new Conn(app, old.id);
    reused.subscribe("news");
    expect(reused.socketId).not.toBe(old.socketId);
    const acts = app.post("/events", "{\"name\":\"e\",\"channel\":\"news\",\"data\":\"d\",\"socket_id\":" + q(old.socketId) + "}");
    expect(acts.log(reused.id)).toBe(eventFrame("e", "news", "d"));
  });

  it("should refuse a malformed socket_id with 400 and deliver nothing", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const acts = app.post("/events", "{\"name\":\"e\",\"channel\":\"news\",\"data\":\"d\",\"socket_id\":\"abc\"}");
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "Invalid socket_id"));
    expect(acts.log(a.id)).toBe("");
  });

  it("should refuse data that is not a string with 400 and deliver nothing", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const acts = app.post("/events", "{\"name\":\"e\",\"channel\":\"news\",\"data\":{\"a\":[1,2]}}");
    expect(acts.body()).toBe(httpError(400, "The event needs data, as a string"));
    expect(acts.log(c.id)).toBe("");
  });

  it("should answer info with user_count for presence and subscription_count for other channels", () => {
    const app = newApp();
    member(app, "presence-room", "1");
    member(app, "presence-room", "1");
    member(app, "presence-room", "2");
    subscriber(app, "news");
    subscriber(app, "news");
    const acts = app.post("/events",
      "{\"name\":\"e\",\"channels\":[\"presence-room\",\"news\"],\"data\":\"d\",\"info\":\"user_count,subscription_count\"}");
    expect(acts.status()).toBe(200);
    expect(acts.body()).toBe("{\"channels\":{\"presence-room\":{\"user_count\":2},\"news\":{\"subscription_count\":2}}}");
  });

  it("should answer info for a single channel and for unoccupied channels", () => {
    const app = newApp();
    expect(app.post("/events", "{\"name\":\"e\",\"channel\":\"empty\",\"data\":\"d\",\"info\":\"subscription_count\"}").body())
      .toBe("{\"channels\":{\"empty\":{\"subscription_count\":0}}}");
  });

  it("should refuse a request without name, data or channel with 400 and deliver nothing", () => {
    const app = newApp();
    subscriber(app, "news");
    const noName = app.post("/events", "{\"channel\":\"news\",\"data\":\"d\"}");
    expect(noName.status()).toBe(400);
    expect(noName.body()).toBe(httpError(400, "The event needs a name"));
    expect(noName.deliveries()).toBe(0);
    const noData = app.post("/events", "{\"name\":\"e\",\"channel\":\"news\"}");
    expect(noData.body()).toBe(httpError(400, "The event needs data, as a string"));
    expect(noData.deliveries()).toBe(0);
    const noChannel = app.post("/events", "{\"name\":\"e\",\"data\":\"d\"}");
    expect(noChannel.body()).toBe(httpError(400, "The event needs a channel or channels"));
    const emptyList = app.post("/events", "{\"name\":\"e\",\"channels\":[],\"data\":\"d\"}");
    expect(emptyList.body()).toBe(httpError(400, "The event needs at least one channel"));
  });

  it("should refuse a body that is not a JSON object with 400", () => {
    const app = newApp();
    const acts = app.post("/events", "[\"news\"]");
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "The body must be a JSON object"));
  });

  it("should refuse invalid channel names with 400 and deliver nothing, even to the valid ones", () => {
    const app = newApp();
    subscriber(app, "news");
    const acts = app.post("/events", "{\"name\":\"e\",\"channels\":[\"news\",\"bad name\"],\"data\":\"d\"}");
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "Invalid channel name"));
    expect(acts.deliveries()).toBe(0);
    expect(app.post("/events", event("e", rep("c", 201), "d")).status()).toBe(400);
  });

  it("should accept 100 channels and refuse 101", () => {
    const app = newApp();
    const names = new Array<string>();
    for (let i = 0; i < 100; i++) names.push(q("c" + i.toString()));
    expect(app.post("/events", "{\"name\":\"e\",\"channels\":[" + names.join(",") + "],\"data\":\"d\"}").status()).toBe(200);
    names.push("\"c100\"");
    const acts = app.post("/events", "{\"name\":\"e\",\"channels\":[" + names.join(",") + "],\"data\":\"d\"}");
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "Cannot broadcast to more than 100 channels at once"));
  });

  it("should refuse event names over 200 characters", () => {
    const app = newApp();
    expect(app.post("/events", event(rep("e", 200), "news", "d")).status()).toBe(200);
    const acts = app.post("/events", event(rep("e", 201), "news", "d"));
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "Event names are at most 200 characters"));
  });

  it("should count an escaped event name's length as decoded (RFC 8259 §7)", () => {
    const app = newApp();
    const escaped = rep("\\u0065", 200); // 200 characters once decoded, 1,200 as sent
    const body = (name: string): string => "{\"name\":\"" + name + "\",\"channel\":\"news\",\"data\":\"d\"}";
    expect(app.post("/events", body(escaped)).status()).toBe(200);
    const acts = app.post("/events", body(escaped + "e"));
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "Event names are at most 200 characters"));
  });

  it("should answer 405 to GET /events", () => {
    const acts = newApp().get("/events", "");
    expect(acts.status()).toBe(405);
    expect(acts.body()).toBe(httpError(405, "Method not allowed"));
  });

  it("should deliver to #server-to-user-<id> as sendToUser does", () => {
    const app = newApp();
    const c = app.connect();
    c.signin("{\"id\":\"77\"}");
    const acts = app.post("/events", "{\"name\":\"hi\",\"channels\":[\"#server-to-user-77\"],\"data\":\"d\"}");
    expect(acts.status()).toBe(200);
    expect(acts.log(c.id)).toBe(eventFrame("hi", "#server-to-user-77", "d"));
  });
});

describe("payload size", () => {
  it("should refuse data over max_event_payload with 413 and deliver nothing", () => {
    const app = newApp([Option.MaxEventPayload, 10]);
    const c = subscriber(app, "news");
    const acts = app.post("/events", event("e", "news", "12345678901"));
    expect(acts.status()).toBe(413);
    expect(acts.body()).toBe(httpError(413, "Payload too large: data is over max_event_payload"));
    expect(acts.deliveries()).toBe(0);
    expect(app.post("/events", event("e", "news", "1234567890")).log(c.id)).toBe(eventFrame("e", "news", "1234567890"));
  });

  it("should measure string data after unescaping", () => {
    const app = newApp([Option.MaxEventPayload, 10]);
    const c = subscriber(app, "news");
    const data = rep("\"", 10); // 20 bytes escaped, 10 decoded
    expect(app.post("/events", event("e", "news", data)).log(c.id)).toBe(eventFrame("e", "news", data));
    expect(app.post("/events", event("e", "news", rep("\"", 11))).status()).toBe(413);
  });

  it("should default max_event_payload to 10 KB", () => {
    const app = newApp();
    expect(app.post("/events", event("e", "news", rep("x", 10240))).status()).toBe(200);
    expect(app.post("/events", event("e", "news", rep("x", 10241))).status()).toBe(413);
  });
});

describe("authentication", () => {
  it("should refuse a bad signature with 401 and deliver nothing", () => {
    const app = newApp();
    subscriber(app, "news");
    const body = event("e", "news", "d");
    const path = "/apps/" + app.id + "/events";
    const query = app.signedQuery("POST", path, "", body, nowSeconds());
    const tampered = query.substring(0, query.length - 1) + (query.endsWith("0") ? "1" : "0");
    const acts = raw("POST", path, tampered, body);
    expect(acts.status()).toBe(401);
    expect(acts.body()).toBe(httpError(401, "Authentication signature invalid"));
    expect(acts.deliveries()).toBe(0);
  });

  it("should refuse a request signed with another app's secret", () => {
    const app = newApp();
    const other = newApp();
    subscriber(app, "news");
    const body = event("e", "news", "d");
    const path = "/apps/" + app.id + "/events";
    const ts = nowSeconds().toString();
    const md5 = md5Hex(body);
    const toSign = "auth_key=" + app.key + "&auth_timestamp=" + ts + "&auth_version=1.0&body_md5=" + md5;
    const sig = hmacOf(other.secret, "POST\n" + path + "\n" + toSign);
    const acts = raw("POST", path, toSign + "&auth_signature=" + sig, body);
    expect(acts.status()).toBe(401);
    expect(acts.deliveries()).toBe(0);
  });

  it("should refuse a wrong auth_key with 401 and deliver nothing", () => {
    const app = newApp();
    const other = newApp();
    subscriber(app, "news");
    const body = event("e", "news", "d");
    const path = "/apps/" + app.id + "/events";
    // Correctly signed, but with the other app's key and secret.
    const query = other.signedQuery("POST", path, "", body, nowSeconds());
    const acts = raw("POST", path, query, body);
    expect(acts.status()).toBe(401);
    expect(acts.body()).toBe(httpError(401, "Unknown auth_key"));
    expect(acts.deliveries()).toBe(0);
  });

  it("should refuse a timestamp more than 600 s from the clock, either way, with 401", () => {
    const app = newApp();
    subscriber(app, "news");
    const body = event("e", "news", "d");
    const path = "/apps/" + app.id + "/events";
    const expired = httpError(401, "Timestamp expired: auth_timestamp must be within 600 seconds of the server time");
    const old = raw("POST", path, app.signedQuery("POST", path, "", body, nowSeconds() - 601), body);
    expect(old.status()).toBe(401);
    expect(old.body()).toBe(expired);
    expect(old.deliveries()).toBe(0);
    const future = raw("POST", path, app.signedQuery("POST", path, "", body, nowSeconds() + 601), body);
    expect(future.body()).toBe(expired);
    expect(future.deliveries()).toBe(0);
    expect(raw("POST", path, app.signedQuery("POST", path, "", body, nowSeconds() - 600), body).status()).toBe(200);
    expect(raw("POST", path, app.signedQuery("POST", path, "", body, nowSeconds() + 600), body).status()).toBe(200);
  });

  it("should follow the engine clock for the timestamp window", () => {
    const app = newApp();
    const body = event("e", "news", "d");
    const path = "/apps/" + app.id + "/events";
    const query = app.signedQuery("POST", path, "", body, nowSeconds());
    advance(601000);
    expect(raw("POST", path, query, body).status()).toBe(401);
  });

  it("should refuse a body that does not match body_md5 with 401 and deliver nothing", () => {
    const app = newApp();
    subscriber(app, "news");
    const signed = event("e", "news", "signed");
    const sent = event("e", "news", "swapped");
    const path = "/apps/" + app.id + "/events";
    const acts = raw("POST", path, app.signedQuery("POST", path, "", signed, nowSeconds()), sent);
    expect(acts.status()).toBe(401);
    expect(acts.body()).toBe(httpError(401, "body_md5 does not match the body"));
    expect(acts.deliveries()).toBe(0);
  });

  it("should refuse a body without body_md5", () => {
    const app = newApp();
    const body = event("e", "news", "d");
    const path = "/apps/" + app.id + "/events";
    const acts = raw("POST", path, app.signedQuery("POST", path, "", "", nowSeconds()), body);
    expect(acts.status()).toBe(401);
    expect(acts.body()).toBe(httpError(401, "Missing body_md5"));
  });

  it("should refuse a request without credentials with 401", () => {
    const app = newApp();
    const acts = raw("GET", "/apps/" + app.id + "/channels", "", "");
    expect(acts.status()).toBe(401);
    expect(acts.body()).toBe(httpError(401, "Missing auth_key, auth_timestamp or auth_signature"));
  });

  it("should sign the path: a signature for another path is refused", () => {
    const app = newApp();
    const path = "/apps/" + app.id + "/channels";
    const query = app.signedQuery("GET", "/apps/" + app.id + "/connections", "", "", nowSeconds());
    expect(raw("GET", path, query, "").status()).toBe(401);
  });

  it("should sign the method: a GET signature does not authorise a POST", () => {
    const app = newApp();
    const path = "/apps/" + app.id + "/channels";
    const query = app.signedQuery("POST", path, "", "", nowSeconds());
    expect(raw("GET", path, query, "").status()).toBe(401);
  });

  it("should verify signatures over percent-decoded, lower-cased, sorted query parameters", () => {
    const app = newApp();
    member(app, "presence-x", "1");
    subscriber(app, "news");
    const path = "/apps/" + app.id + "/channels";
    const ts = nowSeconds().toString();
    const toSign = "auth_key=" + app.key + "&auth_timestamp=" + ts + "&auth_version=1.0&filter_by_prefix=presence-&info=user_count";
    const sig = hmacOf(app.secret, "GET\n" + path + "\n" + toSign);
    const sent = "Info=user%5Fcount&FILTER_BY_PREFIX=presence%2D&auth_version=1.0&auth_timestamp=" + ts +
      "&auth_key=" + app.key + "&auth_signature=" + sig;
    const acts = raw("GET", path, sent, "");
    expect(acts.status()).toBe(200);
    expect(acts.body()).toBe("{\"channels\":{\"presence-x\":{\"user_count\":1}}}");
  });

  it("should answer 404 for an unknown app id", () => {
    const app = newApp();
    const path = "/apps/999999/events";
    const body = event("e", "news", "d");
    const acts = raw("POST", path, app.signedQuery("POST", path, "", body, nowSeconds()), body);
    expect(acts.status()).toBe(404);
    expect(acts.body()).toBe(httpError(404, "No matching application for this id"));
    expect(acts.deliveries()).toBe(0);
  });

  it("should answer 404 for an unknown route", () => {
    const acts = newApp().get("/nothing-here", "");
    expect(acts.status()).toBe(404);
    expect(acts.body()).toBe(httpError(404, "Not found"));
  });
});

describe("malformed requests", () => {
  it("should answer 400 to a truncated HTTP request record", () => {
    const rec = new ArrayBuffer(8);
    const p = changetype<usize>(rec);
    store<u16>(p, 3);
    store<u8>(p + 2, 0x47);
    store<u8>(p + 3, 0x45);
    store<u8>(p + 4, 0x54);
    store<u16>(p + 5, 500); // a path longer than the record
    const acts = batch().rawRecord(<u8>Event.Http, 77, rec).run();
    expect(acts.status()).toBe(400);
    expect(acts.httpId()).toBe(77);
    expect(acts.body()).toBe(httpError(400, "Malformed request"));
  });

  it("should answer 404 to a path outside /apps/", () => {
    const acts = raw("GET", "/up", "", "");
    expect(acts.status()).toBe(404);
    expect(acts.body()).toBe(httpError(404, "Not found"));
  });

  it("should answer 400 to a malformed percent escape in the query", () => {
    const app = newApp();
    const path = "/apps/" + app.id + "/channels";
    const acts = raw("GET", path, app.signedQuery("GET", path, "", "", nowSeconds()) + "&x=%G1", "");
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "Malformed query string"));
  });

  it("should answer 400 to a query with too many parameters", () => {
    const app = newApp();
    const extra = new Array<string>();
    for (let i = 0; i < 40; i++) extra.push("p" + i.toString() + "=1");
    expect(app.get("/channels", extra.join("&")).status()).toBe(400);
  });

  it("should answer each request of a batch under its own id", () => {
    const app = newApp();
    const path = "/apps/" + app.id + "/connections";
    const q1 = app.signedQuery("GET", path, "", "", nowSeconds());
    const acts = batch().http(501, "GET", path, q1, "").http(502, "GET", "/nowhere", "", "").run();
    expect(acts.length).toBe(2);
    expect(acts.list[0].id).toBe(501);
    expect(acts.list[0].code).toBe(200);
    expect(acts.list[1].id).toBe(502);
    expect(acts.list[1].code).toBe(404);
  });
});

describe("POST /apps/{id}/batch_events", () => {
  it("should deliver every event of a batch and answer {}", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const b = subscriber(app, "sport");
    const acts = app.post("/batch_events", "{\"batch\":[" + event("e1", "news", "1") + "," + event("e2", "sport", "2") + "]}");
    expect(acts.status()).toBe(200);
    expect(acts.body()).toBe("{}");
    expect(acts.log(a.id)).toBe(eventFrame("e1", "news", "1"));
    expect(acts.log(b.id)).toBe(eventFrame("e2", "sport", "2"));
  });

  it("should apply each event's own socket_id", () => {
    const app = newApp();
    const a = subscriber(app, "news");
    const b = subscriber(app, "news");
    const acts = app.post("/batch_events", "{\"batch\":[" +
      "{\"name\":\"e1\",\"channel\":\"news\",\"data\":\"1\",\"socket_id\":" + q(a.socketId) + "}," +
      "{\"name\":\"e2\",\"channel\":\"news\",\"data\":\"2\"}]}");
    expect(acts.log(a.id)).toBe(eventFrame("e2", "news", "2"));
    expect(acts.log(b.id)).toBe(eventFrame("e1", "news", "1") + "\n" + eventFrame("e2", "news", "2"));
  });

  it("should answer info index-aligned when any event asks for it", () => {
    const app = newApp();
    subscriber(app, "news");
    const acts = app.post("/batch_events", "{\"batch\":[" +
      "{\"name\":\"e1\",\"channel\":\"news\",\"data\":\"1\",\"info\":\"subscription_count\"}," +
      event("e2", "sport", "2") + "]}");
    expect(acts.body()).toBe("{\"batch\":[{\"subscription_count\":1},{}]}");
  });

  it("should accept 10 events and refuse 11 without delivering any", () => {
    const app = newApp();
    const c = subscriber(app, "news");
    const events = new Array<string>();
    for (let i = 0; i < 10; i++) events.push(event("e" + i.toString(), "news", "d"));
    const ten = app.post("/batch_events", "{\"batch\":[" + events.join(",") + "]}");
    expect(ten.status()).toBe(200);
    expect(ten.frames(c.id)).toHaveLength(10);
    events.push(event("e10", "news", "d"));
    const eleven = app.post("/batch_events", "{\"batch\":[" + events.join(",") + "]}");
    expect(eleven.status()).toBe(400);
    expect(eleven.body()).toBe(httpError(400, "Cannot batch-send more than 10 events at once"));
    expect(eleven.deliveries()).toBe(0);
  });

  it("should deliver nothing when a later event of the batch is invalid", () => {
    const app = newApp();
    subscriber(app, "news");
    const acts = app.post("/batch_events", "{\"batch\":[" + event("ok", "news", "1") + "," + event("bad", "bad name", "2") + "]}");
    expect(acts.status()).toBe(400);
    expect(acts.deliveries()).toBe(0);
  });

  it("should deliver nothing when one event of the batch is too large", () => {
    const app = newApp([Option.MaxEventPayload, 4]);
    subscriber(app, "news");
    const acts = app.post("/batch_events", "{\"batch\":[" + event("ok", "news", "1") + "," + event("big", "news", "12345") + "]}");
    expect(acts.status()).toBe(413);
    expect(acts.deliveries()).toBe(0);
  });

  it("should refuse a body without a batch array", () => {
    const app = newApp();
    expect(app.post("/batch_events", "{\"batch\":{}}").body()).toBe(httpError(400, "batch must be an array of events"));
    expect(app.post("/batch_events", "{\"batch\":[1]}").body()).toBe(httpError(400, "Each batch entry must be an event object"));
  });
});

describe("GET /apps/{id}/channels", () => {
  it("should list occupied channels only", () => {
    const app = newApp();
    subscriber(app, "alpha");
    subscriber(app, "beta");
    subscriber(app, "beta");
    const gone = subscriber(app, "gamma");
    gone.unsubscribe("gamma");
    app.publish("[\"cache-unoccupied\"]", "e", "d", "");
    const u = app.connect();
    u.signin("{\"id\":\"u\"}");
    u.subscribe("#server-to-user-u");
    const acts = app.get("/channels", "");
    expect(acts.status()).toBe(200);
    expectOneOf(acts.body(), ["{\"channels\":{\"alpha\":{},\"beta\":{}}}", "{\"channels\":{\"beta\":{},\"alpha\":{}}}"]);
  });

  it("should filter by prefix", () => {
    const app = newApp();
    subscriber(app, "news-a");
    subscriber(app, "sport-a");
    expect(app.get("/channels", "filter_by_prefix=news-").body()).toBe("{\"channels\":{\"news-a\":{}}}");
    expect(app.get("/channels", "filter_by_prefix=none-").body()).toBe("{\"channels\":{}}");
  });

  it("should give distinct user counts for presence channels with info=user_count", () => {
    const app = newApp();
    member(app, "presence-room", "1");
    member(app, "presence-room", "1");
    member(app, "presence-room", "\"two\"");
    subscriber(app, "news");
    const acts = app.get("/channels", "filter_by_prefix=presence-&info=user_count");
    expect(acts.status()).toBe(200);
    expect(acts.body()).toBe("{\"channels\":{\"presence-room\":{\"user_count\":2}}}");
  });

  it("should refuse info=user_count without a presence- prefix filter with 400", () => {
    const app = newApp();
    const acts = app.get("/channels", "info=user_count");
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "info=user_count needs filter_by_prefix=presence-"));
  });
});

describe("GET /apps/{id}/channels/{channel}", () => {
  it("should report an occupied channel with its subscription_count", () => {
    const app = newApp();
    subscriber(app, "news");
    subscriber(app, "news");
    const acts = app.get("/channels/news", "info=subscription_count");
    expect(acts.status()).toBe(200);
    expect(acts.body()).toBe("{\"occupied\":true,\"subscription_count\":2}");
    expect(app.get("/channels/news", "").body()).toBe("{\"occupied\":true}");
  });

  it("should report an unoccupied channel", () => {
    const app = newApp();
    expect(app.get("/channels/nobody", "").body()).toBe("{\"occupied\":false}");
    expect(app.get("/channels/nobody", "info=subscription_count").body()).toBe("{\"occupied\":false,\"subscription_count\":0}");
  });

  it("should report distinct users of a presence channel", () => {
    const app = newApp();
    member(app, "presence-room", "1");
    member(app, "presence-room", "1");
    member(app, "presence-room", "2");
    expect(app.get("/channels/presence-room", "info=user_count").body()).toBe("{\"occupied\":true,\"user_count\":2}");
  });

  it("should refuse user_count on a non-presence channel with 400", () => {
    const app = newApp();
    const acts = app.get("/channels/news", "info=user_count");
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "user_count is only available for presence channels"));
  });

  it("should report a cache channel's cached data and remaining ttl with info=cache", () => {
    const app = newApp();
    app.publish("[\"cache-c\"]", "e", "{\"x\":1}", "");
    advance(10000);
    expect(app.get("/channels/cache-c", "info=cache").body())
      .toBe("{\"occupied\":false,\"cache\":{\"data\":\"{\\\"x\\\":1}\",\"ttl\":1790}}");
    advance(1790000);
    expect(app.get("/channels/cache-c", "info=cache").body()).toBe("{\"occupied\":false}");
  });

  it("should refuse an invalid channel name with 400", () => {
    const app = newApp();
    expect(app.get("/channels/bad%20name", "").status()).toBe(400);
    expect(app.get("/channels/" + rep("c", 201), "").status()).toBe(400);
  });
});

describe("GET /apps/{id}/channels/{channel}/users", () => {
  it("should list each user of a presence channel once", () => {
    const app = newApp();
    member(app, "presence-room", "1");
    member(app, "presence-room", "1");
    member(app, "presence-room", "\"abc\"");
    const acts = app.get("/channels/presence-room/users", "");
    expect(acts.status()).toBe(200);
    expectOneOf(acts.body(), ["{\"users\":[{\"id\":\"1\"},{\"id\":\"abc\"}]}", "{\"users\":[{\"id\":\"abc\"},{\"id\":\"1\"}]}"]);
  });

  it("should answer an empty list for an empty presence channel", () => {
    expect(newApp().get("/channels/presence-empty/users", "").body()).toBe("{\"users\":[]}");
  });

  it("should refuse a non-presence channel with 400", () => {
    const app = newApp();
    subscriber(app, "news");
    const acts = app.get("/channels/news/users", "");
    expect(acts.status()).toBe(400);
    expect(acts.body()).toBe(httpError(400, "Users are only available for presence channels"));
  });
});

describe("GET /apps/{id}/connections", () => {
  it("should count the app's open connections only", () => {
    const app = newApp();
    const other = newApp();
    app.connect();
    app.connect();
    const c = app.connect();
    other.connect();
    expect(app.get("/connections", "").body()).toBe("{\"connections\":3}");
    c.close();
    expect(app.get("/connections", "").body()).toBe("{\"connections\":2}");
  });
});

describe("POST /apps/{id}/users/{user_id}/terminate_connections", () => {
  it("should close every connection signed in as the user with 4009 and answer {}", () => {
    const app = newApp();
    const a1 = app.connect();
    const a2 = app.connect();
    const b = app.connect();
    a1.signin("{\"id\":\"42\"}");
    a2.signin("{\"id\":\"42\"}");
    b.signin("{\"id\":\"43\"}");
    const acts = app.post("/users/42/terminate_connections", "{}");
    expect(acts.status()).toBe(200);
    expect(acts.body()).toBe("{}");
    const closed = errorFrame(4009, "Connection terminated by the server") + "\n" +
      closeEntry(4009, "Connection terminated by the server");
    expect(acts.log(a1.id)).toBe(closed);
    expect(acts.log(a2.id)).toBe(closed);
    expect(acts.log(b.id)).toBe("");
    expect(app.get("/connections", "").body()).toBe("{\"connections\":1}");
  });

  it("should also close presence members with that user_id and tell the others they left", () => {
    const app = newApp();
    const m = member(app, "presence-room", "\"42\"");
    const watcher = member(app, "presence-room", "\"7\"");
    const acts = app.post("/users/42/terminate_connections", "{}");
    expect(acts.closeCode(m.id)).toBe(4009);
    expect(acts.log(watcher.id)).toBe(eventFrame("pusher_internal:member_removed", "presence-room", "{\"user_id\":\"42\"}"));
  });

  it("should match percent-encoded user ids after decoding", () => {
    const app = newApp();
    const c = app.connect();
    c.signin("{\"id\":\"a@b.example\"}");
    expect(app.post("/users/a%40b.example/terminate_connections", "{}").closeCode(c.id)).toBe(4009);
  });

  it("should take a + in the user id path segment literally", () => {
    const app = newApp();
    const c = app.connect();
    c.signin("{\"id\":\"ann+news@example.com\"}");
    const acts = app.post("/users/ann+news@example.com/terminate_connections", "{}");
    expect(acts.status()).toBe(200);
    expect(acts.closeCode(c.id)).toBe(4009);
  });

  it("should leave other apps' users alone", () => {
    const app = newApp();
    const other = newApp();
    const c = other.connect();
    c.signin("{\"id\":\"42\"}");
    expect(app.post("/users/42/terminate_connections", "{}").closeCode(c.id)).toBe(-1);
  });

  it("should answer 405 to GET", () => {
    expect(newApp().get("/users/42/terminate_connections", "").status()).toBe(405);
  });

  it("should answer 400, not hang, when the user id segment is missing", () => {
    const app = newApp();
    expect(app.post("/users/terminate_connections", "{}").status()).toBe(400);
    expect(app.post("/users//terminate_connections", "{}").status()).toBe(400);
    // The engine still answers afterwards.
    expect(app.post("/users/42/terminate_connections", "{}").status()).toBe(200);
  });
});
