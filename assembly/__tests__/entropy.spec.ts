// Anti-entropy: the Digest a relaying app sends on DIGEST, the Want a node
// sends for the buckets where what it holds for the sender differs, and the
// State that answers it and replaces what the others held. One engine plays
// both sides: what it relays is fed back to it as another node's (REMOTE),
// so a record left out is a record Redis lost.

import { Action, Option } from "../abi";
import { bucketOf, USERS_HASH } from "../channels/digest";
import { Act, Actions, batch, eventFrame, expectOneOf, newApp, q, TestApp, utf8 } from "./engine.include";

const PEER: u32 = 7;

function relayingApp(options: Array<u32> = []): TestApp {
  options.push(<u32>Option.Relay);
  options.push(1);
  return newApp(options);
}

/** The app id a relay record names. */
function appOf(record: ArrayBuffer): string {
  const p = changetype<usize>(record);
  return String.UTF8.decodeUnsafe(p + 3, <usize>load<u16>(p + 1));
}

/** The relay records of kind `kind` (6 Digest, 7 Want, 8 State) for `app`. */
function records(acts: Actions, app: TestApp, kind: i32): Array<ArrayBuffer> {
  const r = new Array<ArrayBuffer>();
  for (let i = 0; i < acts.list.length; i++) {
    const a: Act = acts.list[i];
    if (a.kind == <u8>Action.Relay && a.code == -kind && appOf(a.record) == app.id) r.push(a.record);
  }
  return r;
}

/** Feeds every relay record of `app` in `acts` back to the engine as node PEER's, and returns what that does. */
function mirror(acts: Actions, app: TestApp): Actions {
  const b = batch();
  for (let i = 0; i < acts.list.length; i++) {
    const a: Act = acts.list[i];
    if (a.kind == <u8>Action.Relay && appOf(a.record) == app.id) b.remote(a.record, PEER);
  }
  return b.run();
}

/** Checks that the roster of presence-room is w and u1. */
function expectBoth(app: TestApp): void {
  expectOneOf(app.get("/channels/presence-room/users", "").body(), [
    "{\"users\":[{\"id\":\"w\"},{\"id\":\"u1\"}]}",
    "{\"users\":[{\"id\":\"u1\"},{\"id\":\"w\"}]}",
  ]);
}

/** Relays the digests and feeds `app`'s back as node PEER's: the Want records it causes. */
function exchangeDigest(app: TestApp): Array<ArrayBuffer> {
  return records(mirror(batch().digest().run(), app), app, 7);
}

describe("digests", () => {
  it("should relay one digest per relaying app, of a fixed size whatever the channels", () => {
    const app = relayingApp();
    const quiet = records(batch().digest().run(), app, 6);
    expect(quiet.length).toBe(1);
    for (let i = 0; i < 50; i++) app.connect().subscribe("busy-" + i.toString());
    const busy = records(batch().digest().run(), app, 6);
    expect(busy.length).toBe(1);
    expect(busy[0].byteLength).toBe(quiet[0].byteLength);
    expect(busy[0].byteLength).toBe(1 + 2 + utf8(app.id).byteLength + 8 + 64 * 8);
  });

  it("should relay no digest for an app without the Relay option", () => {
    const app = newApp();
    app.connect().subscribe("news");
    expect(records(batch().digest().run(), app, 6).length).toBe(0);
  });

  it("should ask for nothing when it holds everything the sender relayed", () => {
    const app = relayingApp();
    mirror(app.connect().subscribePresence("presence-room", "{\"user_id\":\"w\"}"), app);
    mirror(app.connect().subscribe("news"), app);
    const u1 = app.connect();
    mirror(u1.subscribePresence("presence-room", "{\"user_id\":\"u1\",\"user_info\":{\"n\":1}}"), app);
    mirror(u1.close(), app);
    expect(exchangeDigest(app).length).toBe(0);
  });

  it("should forget a gone node's digest", () => {
    const app = relayingApp();
    mirror(app.connect().subscribe("news"), app);
    batch().nodeGone(PEER).run();
    // What is held for PEER is now nothing: its digest differs in one bucket.
    const wants = exchangeDigest(app);
    expect(wants.length).toBe(1);
    const mask = load<u64>(changetype<usize>(wants[0]) + 3 + <usize>utf8(app.id).byteLength + 8);
    expect(<i32>popcnt<u64>(mask)).toBe(1);
  });
});

describe("repairs", () => {
  it("should repair a lost member_removed: member_removed to the subscribers and the roster fixed", () => {
    const app = relayingApp();
    const w = app.connect();
    mirror(w.subscribePresence("presence-room", "{\"user_id\":\"w\"}"), app);
    const u1 = app.connect();
    mirror(u1.subscribePresence("presence-room", "{\"user_id\":\"u1\"}"), app);
    // Lost: the member_removed and the count u1's departure relays.
    expect(u1.close().log(w.id)).toBe("");
    expectBoth(app);

    const wants = exchangeDigest(app);
    expect(wants.length).toBe(1);
    const answer = batch().remote(wants[0], 3).run();
    const states = records(answer, app, 8);
    expect(states.length).toBe(1);
    const repaired = batch().remote(states[0], PEER).run();
    expect(repaired.log(w.id)).toBe(eventFrame("pusher_internal:member_removed", "presence-room", "{\"user_id\":\"u1\"}"));
    expect(app.get("/channels/presence-room/users", "").body()).toBe("{\"users\":[{\"id\":\"w\"}]}");
    expect(exchangeDigest(app).length).toBe(0);
  });

  it("should repair a lost member_added and a lost count", () => {
    const app = relayingApp([<u32>Option.SubscriptionCount, 1]);
    const w = app.connect();
    mirror(w.subscribePresence("presence-lobby", "{\"user_id\":\"w\"}"), app);
    mirror(app.connect().subscribe("news"), app);
    // Lost: a second subscription to news, and u2's arrival.
    app.connect().subscribe("news");
    const u2 = app.connect();
    u2.subscribePresence("presence-lobby", "{\"user_id\":\"u2\"}");
    expect(app.get("/channels/news", "info=subscription_count").body()).toBe("{\"occupied\":true,\"subscription_count\":3}");

    const wants = exchangeDigest(app);
    expect(wants.length).toBe(1);
    const states = records(batch().remote(wants[0], 3).run(), app, 8);
    expect(states.length).toBeGreaterThanOrEqual(1);
    const b = batch();
    for (let i = 0; i < states.length; i++) b.remote(states[i], PEER);
    b.run();
    // Two here and two on PEER, the mirror.
    expect(app.get("/channels/news", "info=subscription_count").body()).toBe("{\"occupied\":true,\"subscription_count\":4}");
    expect(exchangeDigest(app).length).toBe(0);
    // u2 is now also PEER's: leaving here, it stays a member.
    expect(u2.close().log(w.id)).toBe("");
  });

  it("should answer only a Want that names this node's token", () => {
    const app = relayingApp();
    mirror(app.connect().subscribe("news"), app);
    app.connect().subscribe("news");
    const wants = exchangeDigest(app);
    expect(wants.length).toBe(1);
    const other = wants[0].slice(0);
    const tokenAt = changetype<usize>(other) + 3 + utf8(app.id).byteLength;
    store<u8>(tokenAt, load<u8>(tokenAt) ^ 1);
    expect(records(batch().remote(other, 3).run(), app, 8).length).toBe(0);
    expect(records(batch().remote(wants[0], 3).run(), app, 8).length).toBe(1);
  });

  it("should ignore malformed digest, want and state records", () => {
    const app = relayingApp();
    const w = app.connect();
    mirror(w.subscribePresence("presence-room", "{\"user_id\":\"w\"}"), app);
    const u1 = app.connect();
    mirror(u1.subscribePresence("presence-room", "{\"user_id\":\"u1\",\"user_info\":{\"a\":[1]}}"), app);
    u1.close();
    const digest = records(batch().digest().run(), app, 6)[0];
    const want = records(batch().remote(digest, PEER).run(), app, 7)[0];
    const state = records(batch().remote(want, 3).run(), app, 8)[0];
    const b = batch();
    for (let n = 0; n < digest.byteLength; n++) b.remote(digest.slice(0, n), PEER);
    for (let n = 0; n < want.byteLength; n++) b.remote(want.slice(0, n), PEER);
    // A State cut anywhere but after its header is malformed (cut there, it lists no channel).
    const header = 1 + 2 + utf8(app.id).byteLength + 1;
    for (let n = 0; n < state.byteLength; n++) if (n != header) b.remote(state.slice(0, n), PEER);
    const wrongBucket = state.slice(0);
    const bucketAt = changetype<usize>(wrongBucket) + 3 + utf8(app.id).byteLength;
    store<u8>(bucketAt, (load<u8>(bucketAt) + 1) & 63);
    b.remote(wrongBucket, PEER);
    const tooLong = new ArrayBuffer(digest.byteLength + 1);
    memory.copy(changetype<usize>(tooLong), changetype<usize>(digest), digest.byteLength);
    b.remote(tooLong, PEER);
    const acts = b.run();
    expect(acts.log(w.id)).toBe("");
    expectBoth(app);
  });
});

/** The watchlist event a watcher hears when `id` comes online or goes offline. */
function watchlistEvent(name: string, id: string): string {
  return "{\"event\":\"pusher_internal:watchlist_events\",\"data\":" +
    q("{\"events\":[{\"name\":\"" + name + "\",\"user_ids\":[" + q(id) + "]}]}") + "}";
}

/** Answers the Wants of a digest exchange and feeds the State records back as node PEER's. */
function repair(app: TestApp, wants: Array<ArrayBuffer>): Actions {
  const b = batch();
  for (let i = 0; i < wants.length; i++) {
    const states = records(batch().remote(wants[i], 3).run(), app, 8);
    for (let j = 0; j < states.length; j++) b.remote(states[j], PEER);
  }
  return b.run();
}

describe("signed-in users", () => {
  it("should repair a lost user offline: the watchers hear offline", () => {
    const app = relayingApp();
    const w = app.connect();
    mirror(w.signin("{\"id\":\"w\",\"watchlist\":[\"u1\"]}"), app);
    const u1 = app.connect();
    mirror(u1.signin("{\"id\":\"u1\"}"), app);
    // Lost: u1's offline record. Node PEER still holds u1, so nobody hears offline.
    expect(u1.close().log(w.id)).toBe("");

    const wants = exchangeDigest(app);
    expect(wants.length).toBe(1);
    expect(repair(app, wants).log(w.id)).toBe(watchlistEvent("offline", "u1"));
    expect(exchangeDigest(app).length).toBe(0);
  });

  it("should repair a lost user online: the user is held for its node", () => {
    const app = relayingApp();
    const w = app.connect();
    mirror(w.signin("{\"id\":\"w\",\"watchlist\":[\"u2\"]}"), app);
    // Lost: u2's online record; here, w hears of u2 from u2 itself.
    const u2 = app.connect();
    expect(u2.signin("{\"id\":\"u2\"}").log(w.id)).toBe(watchlistEvent("online", "u2"));

    const wants = exchangeDigest(app);
    expect(wants.length).toBe(1);
    expect(repair(app, wants).log(w.id)).toBe("");
    expect(exchangeDigest(app).length).toBe(0);
    // Node PEER now holds u2: its last connection here closing leaves it online there.
    expect(u2.close().log(w.id)).toBe("");
  });

  it("should ignore a users State in another bucket, or with an id that is not JSON string content", () => {
    const app = relayingApp();
    const w = app.connect();
    mirror(w.signin("{\"id\":\"w\",\"watchlist\":[\"u1\",\"x\\\"y\"]}"), app);
    const u1 = app.connect();
    mirror(u1.signin("{\"id\":\"u1\"}"), app);
    u1.close();
    const b = batch();
    const usersBucket = bucketOf(USERS_HASH);
    for (let k = 0; k < 2; k++) {
      // kind 8 | app id | bucket | "!users" | one id
      const id = k == 0 ? "w" : "x\"y";
      const appId = utf8(app.id), name = utf8("!users"), idBytes = utf8(id);
      const r = new ArrayBuffer(1 + 2 + appId.byteLength + 1 + 2 + name.byteLength + 4 + 2 + idBytes.byteLength);
      let p = changetype<usize>(r);
      store<u8>(p, 8);
      store<u16>(p + 1, <u16>appId.byteLength);
      memory.copy(p + 3, changetype<usize>(appId), appId.byteLength);
      p += 3 + appId.byteLength;
      store<u8>(p, <u8>(k == 0 ? (usersBucket + 1) & 63 : usersBucket));
      store<u16>(p + 1, <u16>name.byteLength);
      memory.copy(p + 3, changetype<usize>(name), name.byteLength);
      p += 3 + name.byteLength;
      store<u32>(p, 1);
      store<u16>(p + 4, <u16>idBytes.byteLength);
      memory.copy(p + 6, changetype<usize>(idBytes), idBytes.byteLength);
      b.remote(r, PEER);
    }
    // Applied, either would have signed u1 out of PEER.
    expect(b.run().log(w.id)).toBe("");
    expect(exchangeDigest(app).length).toBe(1);
  });
});
