// User sign-in (`pusher:signin`), `#server-to-user-` channels and watchlists,
// through the engine ABI.

import {
  closeEntry, Conn, errorFrame, eventFrame, hmacHex, newApp, q, subscriptionErrorFrame, succeededFrame, TestApp,
} from "./engine.include";

function signinSuccess(userData: string): string {
  return "{\"event\":\"pusher:signin_success\",\"data\":{\"user_data\":" + q(userData) + "}}";
}

function watchlistEvent(name: string, idsJson: string): string {
  return "{\"event\":\"pusher_internal:watchlist_events\",\"data\":" +
    q("{\"events\":[{\"name\":\"" + name + "\",\"user_ids\":" + idsJson + "}]}") + "}";
}

function signinMessage(auth: string, userData: string): string {
  return "{\"event\":\"pusher:signin\",\"data\":{\"auth\":" + q(auth) + ",\"user_data\":" + q(userData) + "}}";
}

function refused(message: string): string {
  return errorFrame(4009, message) + "\n" + closeEntry(4009, "Connection is unauthorized");
}

/** A new connection signed in as `id`. */
function user(app: TestApp, id: string): Conn {
  const c = app.connect();
  c.signin("{\"id\":" + q(id) + "}");
  return c;
}

describe("pusher:signin", () => {
  it("should answer a valid sign-in with pusher:signin_success carrying user_data", () => {
    const c = newApp().connect();
    const acts = c.signin("{\"id\":\"12345\"}");
    expect(acts.log(c.id)).toBe("{\"event\":\"pusher:signin_success\",\"data\":{\"user_data\":\"{\\\"id\\\":\\\"12345\\\"}\"}}");
    expect(acts.closeCode(c.id)).toBe(-1);
  });

  it("should echo the exact user_data string, user_info included", () => {
    const c = newApp().connect();
    const ud = "{\"id\":\"7\",\"user_info\":{\"name\":\"Zo\u00e9\",\"q\":\"a\\\"b\"}}";
    expect(c.signin(ud).log(c.id)).toBe(signinSuccess(ud));
  });

  it("should answer a forged signature with pusher:error 4009 and close", () => {
    const app = newApp();
    const c = app.connect();
    const ud = "{\"id\":\"12345\"}";
    const forged = app.key + ":" + hmacHex("wrong-secret", c.socketId + "::user::" + ud);
    expect(c.send(signinMessage(forged, ud)).log(c.id)).toBe(refused("Invalid signature"));
  });

  it("should refuse a signature made for another socket id", () => {
    const app = newApp();
    const a = app.connect();
    const b = app.connect();
    const ud = "{\"id\":\"12345\"}";
    expect(b.send(signinMessage(app.auth(a.socketId + "::user::" + ud), ud)).log(b.id)).toBe(refused("Invalid signature"));
  });

  it("should refuse a channel-style signature without ::user::", () => {
    const app = newApp();
    const c = app.connect();
    const ud = "{\"id\":\"12345\"}";
    expect(c.send(signinMessage(app.auth(c.socketId + ":" + ud), ud)).log(c.id)).toBe(refused("Invalid signature"));
  });

  it("should refuse sign-in data without auth or user_data", () => {
    const app = newApp();
    const a = app.connect();
    expect(a.send("{\"event\":\"pusher:signin\",\"data\":{\"user_data\":\"{\\\"id\\\":\\\"1\\\"}\"}}").log(a.id))
      .toBe(refused("Sign-in data must be an object with auth and user_data"));
    const b = app.connect();
    expect(b.send("{\"event\":\"pusher:signin\",\"data\":{\"auth\":\"x:y\"}}").log(b.id))
      .toBe(refused("Sign-in data must be an object with auth and user_data"));
    const c = app.connect();
    expect(c.send("{\"event\":\"pusher:signin\"}").log(c.id))
      .toBe(refused("Sign-in data must be an object with auth and user_data"));
  });

  it("should refuse signed user_data without a non-empty string id, and close", () => {
    const app = newApp();
    const a = app.connect();
    expect(a.signin("{\"name\":\"no id\"}").log(a.id)).toBe(refused("user_data must have a non-empty string id"));
    const b = app.connect();
    expect(b.signin("{\"id\":12345}").log(b.id)).toBe(refused("user_data must have a non-empty string id"));
    const c = app.connect();
    expect(c.signin("{\"id\":\"\"}").log(c.id)).toBe(refused("user_data must have a non-empty string id"));
  });

  it("should refuse signed user_data that is not a JSON object", () => {
    const c = newApp().connect();
    expect(c.signin("[\"12345\"]").log(c.id)).toBe(refused("user_data must be a JSON object"));
  });

  it("should accept a second sign-in as the same user", () => {
    const c = newApp().connect();
    c.signin("{\"id\":\"same\"}");
    expect(c.signin("{\"id\":\"same\",\"user_info\":{}}").log(c.id)).toBe(signinSuccess("{\"id\":\"same\",\"user_info\":{}}"));
  });

  it("should refuse a sign-in as another user on a signed-in connection without closing it", () => {
    const c = newApp().connect();
    c.signin("{\"id\":\"first\"}");
    const acts = c.signin("{\"id\":\"second\"}");
    expect(acts.log(c.id)).toBe(errorFrame(4009, "The connection is already signed in as another user"));
    expect(acts.closeCode(c.id)).toBe(-1);
  });
});

describe("#server-to-user- channels", () => {
  it("should let a connection signed in as the user subscribe with an empty auth", () => {
    const c = user(newApp(), "12345");
    expect(c.subscribe("#server-to-user-12345").log(c.id)).toBe(succeededFrame("#server-to-user-12345"));
  });

  it("should refuse a connection that is not signed in with AuthError 403", () => {
    const c = newApp().connect();
    expect(c.subscribe("#server-to-user-12345").log(c.id)).toBe(subscriptionErrorFrame(
      "#server-to-user-12345", "AuthError", "Only a connection signed in as this user may subscribe", 403,
    ));
  });

  it("should refuse a connection signed in as another user, even one whose id is a prefix", () => {
    const app = newApp();
    const err = subscriptionErrorFrame("#server-to-user-12345", "AuthError", "Only a connection signed in as this user may subscribe", 403);
    const a = user(app, "1234");
    expect(a.subscribe("#server-to-user-12345").log(a.id)).toBe(err);
    const b = user(app, "123456");
    expect(b.subscribe("#server-to-user-12345").log(b.id)).toBe(err);
  });

  it("should deliver a publish to #server-to-user-<id> to every connection of that user only", () => {
    const app = newApp();
    const a1 = user(app, "42");
    const a2 = user(app, "42");
    const other = user(app, "43");
    const anon = app.connect();
    a1.subscribe("#server-to-user-42");
    const acts = app.publish("[\"#server-to-user-42\"]", "notice", "{\"n\":1}", "");
    const frame = eventFrame("notice", "#server-to-user-42", "{\"n\":1}");
    expect(acts.log(a1.id)).toBe(frame);
    expect(acts.log(a2.id)).toBe(frame);
    expect(acts.log(other.id)).toBe("");
    expect(acts.log(anon.id)).toBe("");
  });

  it("should stop delivering to a user's connection once it closed", () => {
    const app = newApp();
    const a1 = user(app, "42");
    const a2 = user(app, "42");
    a1.close();
    const acts = app.publish("[\"#server-to-user-42\"]", "notice", "x", "");
    expect(acts.recipientsOf(eventFrame("notice", "#server-to-user-42", "x"))).toBe(a2.id.toString());
  });

  it("should deliver nothing to a user with no connection", () => {
    const app = newApp();
    user(app, "online");
    expect(app.publish("[\"#server-to-user-nobody\"]", "notice", "x", "").deliveries()).toBe(0);
  });

  it("should exclude the socket id given with a user publish", () => {
    const app = newApp();
    const a1 = user(app, "42");
    const a2 = user(app, "42");
    const acts = app.publish("[\"#server-to-user-42\"]", "notice", "x", a1.socketId);
    expect(acts.recipientsOf(eventFrame("notice", "#server-to-user-42", "x"))).toBe(a2.id.toString());
  });
});

describe("watchlist", () => {
  it("should send nothing but signin_success when no watched user is online", () => {
    const app = newApp();
    const w = app.connect();
    const ud = "{\"id\":\"w\",\"watchlist\":[\"b\",\"c\"]}";
    expect(w.signin(ud).log(w.id)).toBe(signinSuccess(ud));
  });

  it("should list the watched users already online right after signin_success", () => {
    const app = newApp();
    user(app, "c");
    const w = app.connect();
    const ud = "{\"id\":\"w\",\"watchlist\":[\"b\",\"c\"]}";
    expect(w.signin(ud).log(w.id)).toBe(signinSuccess(ud) + "\n" + watchlistEvent("online", "[\"c\"]"));
  });

  it("should send an online event in the shape pusher-js routes when a watched user signs in", () => {
    const app = newApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"b\"]}");
    const b = app.connect();
    const acts = b.signin("{\"id\":\"b\"}");
    expect(acts.log(w.id)).toBe(
      "{\"event\":\"pusher_internal:watchlist_events\",\"data\":\"{\\\"events\\\":[{\\\"name\\\":\\\"online\\\",\\\"user_ids\\\":[\\\"b\\\"]}]}\"}",
    );
    expect(acts.log(b.id)).toBe(signinSuccess("{\"id\":\"b\"}"));
  });

  it("should send online only for a user's first connection and offline only after the last", () => {
    const app = newApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"b\"]}");
    const b1 = app.connect();
    expect(b1.signin("{\"id\":\"b\"}").log(w.id)).toBe(watchlistEvent("online", "[\"b\"]"));
    const b2 = app.connect();
    expect(b2.signin("{\"id\":\"b\"}").log(w.id)).toBe("");
    expect(b1.close().log(w.id)).toBe("");
    expect(b2.close().log(w.id)).toBe(watchlistEvent("offline", "[\"b\"]"));
  });

  it("should not notify users who do not watch", () => {
    const app = newApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"x\"]}");
    const bystander = user(app, "bystander");
    const acts = user(app, "b").close();
    expect(acts.log(w.id)).toBe("");
    expect(acts.log(bystander.id)).toBe("");
  });

  it("should notify every watcher", () => {
    const app = newApp();
    const w1 = app.connect();
    const w2 = app.connect();
    w1.signin("{\"id\":\"w1\",\"watchlist\":[\"b\"]}");
    w2.signin("{\"id\":\"w2\",\"watchlist\":[\"b\"]}");
    const acts = app.connect().signin("{\"id\":\"b\"}");
    const ids = w1.id < w2.id ? w1.id.toString() + "," + w2.id.toString() : w2.id.toString() + "," + w1.id.toString();
    expect(acts.recipientsOf(watchlistEvent("online", "[\"b\"]"))).toBe(ids);
  });

  it("should stop notifying a watcher whose connection closed", () => {
    const app = newApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"b\"]}");
    w.close();
    expect(app.connect().signin("{\"id\":\"b\"}").deliveries()).toBe(1);
  });

  it("should accept numeric ids in the watchlist", () => {
    const app = newApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[42]}");
    expect(user(app, "42").close().log(w.id)).toBe(watchlistEvent("offline", "[\"42\"]"));
  });

  it("should keep watchlists per app", () => {
    const a = newApp();
    const b = newApp();
    const w = a.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"u\"]}");
    expect(user(b, "u").opened.length).toBe(1);
    expect(b.connect().signin("{\"id\":\"u\"}").log(w.id)).toBe("");
  });

  it("should watch 100 ids without complaint", () => {
    const app = newApp();
    const ids = new Array<string>();
    for (let i = 0; i < 100; i++) ids.push(q("u" + i.toString()));
    const ud = "{\"id\":\"w\",\"watchlist\":[" + ids.join(",") + "]}";
    const w = app.connect();
    expect(w.signin(ud).log(w.id)).toBe(signinSuccess(ud));
  });

  it("should keep the first 100 ids of a longer watchlist and send error 4302", () => {
    const app = newApp();
    user(app, "u0");
    const ids = new Array<string>();
    for (let i = 0; i < 101; i++) ids.push(q("u" + i.toString()));
    const ud = "{\"id\":\"w\",\"watchlist\":[" + ids.join(",") + "]}";
    const w = app.connect();
    const acts = w.signin(ud);
    expect(acts.log(w.id)).toBe(
      signinSuccess(ud) + "\n" +
      errorFrame(4302, "Watchlist limit exceeded: only the first 100 user ids are watched") + "\n" +
      watchlistEvent("online", "[\"u0\"]"),
    );
    expect(acts.closeCode(w.id)).toBe(-1);
    expect(app.connect().signin("{\"id\":\"u99\"}").log(w.id)).toBe(watchlistEvent("online", "[\"u99\"]"));
    expect(app.connect().signin("{\"id\":\"u100\"}").log(w.id)).toBe("");
  });

  it("should refuse a watchlist that is not an array with 4302", () => {
    const c = newApp().connect();
    const ud = "{\"id\":\"w\",\"watchlist\":\"b\"}";
    expect(c.signin(ud).log(c.id)).toBe(signinSuccess(ud) + "\n" + errorFrame(4302, "watchlist must be an array of user ids"));
  });

  it("should notify a watcher once even if its watchlist names a user twice", () => {
    const app = newApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"b\",\"b\"]}");
    expect(app.connect().signin("{\"id\":\"b\"}").log(w.id)).toBe(watchlistEvent("online", "[\"b\"]"));
  });

  it("should not send watchlist events to a later connection that reuses a closed watcher's id", () => {
    const app = newApp();
    const w = app.connect();
    w.signin("{\"id\":\"w\",\"watchlist\":[\"b\",\"b\"]}");
    w.close();
    const reused = new Conn(app, w.id);
    expect(app.connect().signin("{\"id\":\"b\"}").log(reused.id)).toBe("");
  });
});
