// Admission of a new connection, as Reverb's app settings: allowed origins
// (4009 "Origin not allowed") and max_connections (4004 "Application is over
// connection quota"). Both refusals send pusher:error, then close with the code.

import { Option } from "../abi";
import { batch, closeEntry, errorFrame, newApp, newConnId, TestApp } from "./engine.include";

/** Opens a connection with `origin` and returns its close code (-1: admitted). */
function openWith(app: TestApp, origin: string): i32 {
  const id = newConnId();
  return batch().open(id, app.key, origin).run().closeCode(id);
}

describe("allowed origins", () => {
  it("should admit any origin, or none, when the app lists no pattern", () => {
    const app = newApp();
    expect(openWith(app, "https://anywhere.test")).toBe(-1);
    expect(openWith(app, "")).toBe(-1);
  });

  it("should admit an origin whose host matches, whatever its scheme, port, path and case", () => {
    const app = newApp([], ["laravel.com"]);
    expect(openWith(app, "https://laravel.com")).toBe(-1);
    expect(openWith(app, "http://LARAVEL.com:8080")).toBe(-1);
    expect(openWith(app, "https://laravel.com/some/path")).toBe(-1);
  });

  it("should refuse another host with pusher:error 4009 Origin not allowed, then close", () => {
    const app = newApp([], ["laravel.com"]);
    const id = newConnId();
    const acts = batch().open(id, app.key, "https://evil.test").run();
    expect(acts.log(id)).toBe(errorFrame(4009, "Origin not allowed") + "\n" + closeEntry(4009, "Origin not allowed"));
    expect(openWith(app, "https://laravel.com.evil.test")).toBe(4009);
    expect(openWith(app, "https://sub.laravel.com")).toBe(4009);
  });

  it("should match `*` wildcards like Reverb's Str::is", () => {
    const app = newApp([], ["*.example.com", "app-*.test"]);
    expect(openWith(app, "https://a.example.com")).toBe(-1);
    expect(openWith(app, "https://a.b.example.com")).toBe(-1);
    expect(openWith(app, "https://example.com")).toBe(4009);
    expect(openWith(app, "https://app-1.test")).toBe(-1);
    expect(openWith(app, "https://app.test")).toBe(4009);
  });

  it("should refuse a connection without an Origin header unless `*` is listed", () => {
    expect(openWith(newApp([], ["laravel.com"]), "")).toBe(4009);
    const any = newApp([], ["laravel.com", "*"]);
    expect(openWith(any, "")).toBe(-1);
    expect(openWith(any, "https://evil.test")).toBe(-1);
  });
});

describe("max_connections", () => {
  it("should refuse connections over the quota with 4004, and admit again once one closes", () => {
    const app = newApp([<u32>Option.MaxConnections, 2]);
    const a = app.connect();
    app.connect();
    const id = newConnId();
    const acts = batch().open(id, app.key).run();
    expect(acts.log(id)).toBe(errorFrame(4004, "Application is over connection quota") + "\n" +
      closeEntry(4004, "Application is over connection quota"));
    a.close();
    expect(openWith(app, "")).toBe(-1);
  });

  it("should count each app on its own", () => {
    const full = newApp([<u32>Option.MaxConnections, 1]);
    const other = newApp([<u32>Option.MaxConnections, 1]);
    full.connect();
    expect(openWith(other, "")).toBe(-1);
    expect(openWith(full, "")).toBe(4004);
  });
});
