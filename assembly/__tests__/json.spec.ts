import {
  JsonType, ObjectScanner, ArrayScanner, validateValue, unescapeString,
  writeString, writeStringContent,
} from "../json";
import { ByteBuffer } from "../frame/buffer";

const obj = new ObjectScanner();
const inner = new ObjectScanner();
const arr = new ArrayScanner();
const out = new ByteBuffer(16);

// The bytes spans point into; kept referenced until the next input.
let input = new ArrayBuffer(0);

function put(s: string): usize {
  input = String.UTF8.encode(s);
  return changetype<usize>(input);
}

function size(): usize {
  return <usize>input.byteLength;
}

function scan(s: string): bool {
  return obj.scan(put(s), size());
}

function valid(s: string): bool {
  return validateValue(put(s), size());
}

function begin(s: string): bool {
  return arr.begin(put(s), size());
}

function text(ptr: usize, len: usize): string {
  return String.UTF8.decodeUnsafe(ptr, len);
}

function value(scanner: ObjectScanner, key: string): string {
  const i = scanner.find(key);
  return text(scanner.valueStart(i), scanner.valueLen(i));
}

function hex(ptr: usize, len: usize): string {
  let s = "";
  for (let i: usize = 0; i < len; i++) {
    const b = load<u8>(ptr + i);
    s += (b < 0x10 ? "0" : "") + b.toString(16);
  }
  return s;
}

/** Unescapes into a fresh buffer; the result as hex, or "error". */
function unescapeHex(raw: string): string {
  const src = put(raw);
  const dst = new ArrayBuffer(<i32>size());
  const n = unescapeString(src, size(), changetype<usize>(dst));
  return n < 0 ? "error" : hex(changetype<usize>(dst), <usize>n);
}

function written(): string {
  return text(out.ptr, out.len);
}

const SUBSCRIBE =
  '{"event":"pusher:subscribe","data":{"auth":"278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4","channel":"private-foobar"}}';
const PRESENCE =
  '{"event":"pusher:subscribe","data":{"auth":"278d425bdf160c739803:31935e7d86dba64c2a90aed31fdc61869f9b22ba9d8863bba239c03ca481bc80","channel_data":"{\\"user_id\\":10,\\"user_info\\":{\\"name\\":\\"Mr. Channels\\"}}","channel":"presence-foobar"}}';
const CLIENT_OBJECT =
  '{"event":"client-start-typing","channel":"private-chat","data":{"id":123,"name":"Joe Dixon"}}';
const CLIENT_STRING = '{"event":"client-message","channel":"private-chat","data":"{\\"text\\":\\"h\\u00e9llo\\"}"}';
const PING = '{"event":"pusher:ping","data":{}}';
const SIGNIN =
  '{"event":"pusher:signin","data":{"auth":"278d425bdf160c739803:4708d583dada6a56435fb8bc611c77c359a31eebde13337c16ab43aa6de336ba","user_data":"{\\"id\\":\\"12345\\",\\"watchlist\\":[\\"7\\",\\"8\\"]}"}}';
const FRAMES = [SUBSCRIBE, PRESENCE, CLIENT_OBJECT, CLIENT_STRING, PING, SIGNIN];

function nested(open: string, close: string, depth: i32): string {
  return open.repeat(depth) + close.repeat(depth);
}

describe("ObjectScanner", () => {
  it("should record event and data of a subscribe frame", () => {
    expect(scan(SUBSCRIBE)).toBe(true);
    expect(obj.count).toBe(2);
    expect(obj.type(obj.find("event"))).toBe(JsonType.String);
    expect(value(obj, "event")).toBe("pusher:subscribe");
    expect(obj.valueEscaped(obj.find("event"))).toBe(false);
    const d = obj.find("data");
    expect(obj.type(d)).toBe(JsonType.Object);
    expect(inner.scan(obj.valueStart(d), obj.valueLen(d))).toBe(true);
    expect(inner.count).toBe(2);
    expect(value(inner, "channel")).toBe("private-foobar");
    expect(value(inner, "auth")).toBe(
      "278d425bdf160c739803:58df8b0c36d6982b82c3ecf6b4662e34fe8c25bba48f5369f135bf843651c3a4",
    );
    expect(inner.find("channel_data")).toBe(-1);
  });

  it("should record keys as raw bytes between the quotes", () => {
    expect(scan(SUBSCRIBE)).toBe(true);
    expect(text(obj.keyStart(0), obj.keyLen(0))).toBe("event");
    expect(text(obj.keyStart(1), obj.keyLen(1))).toBe("data");
  });

  it("should read presence channel_data as an escaped string holding JSON", () => {
    expect(scan(PRESENCE)).toBe(true);
    const d = obj.find("data");
    expect(inner.scan(obj.valueStart(d), obj.valueLen(d))).toBe(true);
    expect(inner.count).toBe(3);
    const c = inner.find("channel_data");
    expect(inner.type(c)).toBe(JsonType.String);
    expect(inner.valueEscaped(c)).toBe(true);
    expect(value(inner, "channel")).toBe("presence-foobar");
    expect(inner.valueEscaped(inner.find("channel"))).toBe(false);

    // Signatures cover the raw string; the member is read after decoding.
    const buf = new ArrayBuffer(<i32>inner.valueLen(c));
    const dst = changetype<usize>(buf);
    const n = unescapeString(inner.valueStart(c), inner.valueLen(c), dst);
    expect(text(dst, n)).toBe('{"user_id":10,"user_info":{"name":"Mr. Channels"}}');
    expect(obj.scan(dst, n)).toBe(true);
    expect(obj.type(obj.find("user_id"))).toBe(JsonType.Number);
    expect(value(obj, "user_id")).toBe("10");
    expect(obj.type(obj.find("user_info"))).toBe(JsonType.Object);
    expect(value(obj, "user_info")).toBe('{"name":"Mr. Channels"}');
  });

  it("should keep a client event's object data as its full raw text", () => {
    expect(scan(CLIENT_OBJECT)).toBe(true);
    expect(obj.count).toBe(3);
    expect(value(obj, "event")).toBe("client-start-typing");
    expect(value(obj, "channel")).toBe("private-chat");
    expect(obj.type(obj.find("data"))).toBe(JsonType.Object);
    expect(value(obj, "data")).toBe('{"id":123,"name":"Joe Dixon"}');
  });

  it("should keep a client event's string data escaped", () => {
    expect(scan(CLIENT_STRING)).toBe(true);
    const d = obj.find("data");
    expect(obj.type(d)).toBe(JsonType.String);
    expect(obj.valueEscaped(d)).toBe(true);
    expect(value(obj, "data")).toBe('{\\"text\\":\\"h\\u00e9llo\\"}');
  });

  it("should accept pusher:ping with empty object data", () => {
    expect(scan(PING)).toBe(true);
    expect(value(obj, "event")).toBe("pusher:ping");
    const d = obj.find("data");
    expect(obj.type(d)).toBe(JsonType.Object);
    expect(value(obj, "data")).toBe("{}");
    expect(inner.scan(obj.valueStart(d), obj.valueLen(d))).toBe(true);
    expect(inner.count).toBe(0);
  });

  it("should read sign-in user_data and its watchlist", () => {
    expect(scan(SIGNIN)).toBe(true);
    const d = obj.find("data");
    expect(inner.scan(obj.valueStart(d), obj.valueLen(d))).toBe(true);
    const u = inner.find("user_data");
    expect(inner.valueEscaped(u)).toBe(true);
    const buf = new ArrayBuffer(<i32>inner.valueLen(u));
    const dst = changetype<usize>(buf);
    const n = unescapeString(inner.valueStart(u), inner.valueLen(u), dst);
    expect(n).toBeGreaterThan(0);
    expect(obj.scan(dst, n)).toBe(true);
    expect(value(obj, "id")).toBe("12345");
    const w = obj.find("watchlist");
    expect(obj.type(w)).toBe(JsonType.Array);
    expect(arr.begin(obj.valueStart(w), obj.valueLen(w))).toBe(true);
    expect(arr.next()).toBe(true);
    expect(text(arr.start, arr.len)).toBe("7");
    expect(arr.next()).toBe(true);
    expect(text(arr.start, arr.len)).toBe("8");
    expect(arr.next()).toBe(false);
  });

  it("should record the type and span of every kind of value", () => {
    expect(scan('{"s":"x\\ny","n":-1.5e3,"t":true,"f":false,"z":null,"a":[1, {}],"o":{"k":[]},"e":""}')).toBe(true);
    expect(obj.count).toBe(8);
    expect(obj.type(0)).toBe(JsonType.String);
    expect(value(obj, "s")).toBe("x\\ny");
    expect(obj.valueEscaped(0)).toBe(true);
    expect(obj.type(1)).toBe(JsonType.Number);
    expect(value(obj, "n")).toBe("-1.5e3");
    expect(obj.type(2)).toBe(JsonType.True);
    expect(value(obj, "t")).toBe("true");
    expect(obj.type(3)).toBe(JsonType.False);
    expect(value(obj, "f")).toBe("false");
    expect(obj.type(4)).toBe(JsonType.Null);
    expect(value(obj, "z")).toBe("null");
    expect(obj.type(5)).toBe(JsonType.Array);
    expect(value(obj, "a")).toBe("[1, {}]");
    expect(obj.type(6)).toBe(JsonType.Object);
    expect(value(obj, "o")).toBe('{"k":[]}');
    expect(obj.type(7)).toBe(JsonType.String);
    expect(obj.valueLen(7)).toBe(0);
    expect(obj.valueEscaped(7)).toBe(false);
  });

  it("should give the full text of values, quotes included for strings", () => {
    expect(scan('{"s":"a\\"b","n":12,"o":{"k":"v"}}')).toBe(true);
    expect(text(obj.rawStart(0), obj.rawLen(0))).toBe('"a\\"b"');
    expect(text(obj.rawStart(1), obj.rawLen(1))).toBe("12");
    expect(text(obj.rawStart(2), obj.rawLen(2))).toBe('{"k":"v"}');
    expect(obj.rawStart(-1)).toBe(0);
    expect(obj.rawLen(3)).toBe(0);
  });

  it("should accept whitespace around and between tokens", () => {
    expect(scan(' \t\r\n{ "a" : 1 ,\n"b"\t:\r[ 2 , 3 ] , "c" : "d" } \n')).toBe(true);
    expect(obj.count).toBe(3);
    expect(value(obj, "a")).toBe("1");
    expect(value(obj, "b")).toBe("[ 2 , 3 ]");
    expect(value(obj, "c")).toBe("d");
  });

  it("should find the first of duplicate keys", () => {
    expect(scan('{"a":1,"a":2}')).toBe(true);
    expect(obj.count).toBe(2);
    expect(obj.find("a")).toBe(0);
    expect(value(obj, "a")).toBe("1");
  });

  it("should match keys exactly, comparing escaped keys decoded (RFC 8259 §7)", () => {
    expect(scan('{"channel":1,"chan":2,"channels":3,"\\u0061":4,"é":5}')).toBe(true);
    expect(obj.find("chan")).toBe(1);
    expect(obj.find("channel")).toBe(0);
    expect(obj.find("channels")).toBe(2);
    expect(obj.find("channe")).toBe(-1);
    expect(obj.find("a")).toBe(3);
    expect(obj.find("")).toBe(-1);
    expect(obj.find("é")).toBe(-1);
  });

  it("should answer None and 0 for indexes outside the members", () => {
    expect(scan('{"a":"b"}')).toBe(true);
    expect(obj.type(-1)).toBe(JsonType.None);
    expect(obj.type(1)).toBe(JsonType.None);
    expect(obj.valueStart(-1)).toBe(0);
    expect(obj.valueLen(1)).toBe(0);
    expect(obj.keyStart(-1)).toBe(0);
    expect(obj.keyLen(1)).toBe(0);
    expect(obj.valueEscaped(-1)).toBe(false);
    expect(obj.find("missing")).toBe(-1);
  });

  it("should fail on more members than its capacity", () => {
    const small = new ObjectScanner(2);
    let s = '{"a":1,"b":2}';
    let p = put(s);
    expect(small.scan(p, size())).toBe(true);
    expect(small.count).toBe(2);
    s = '{"a":1,"b":2,"c":3}';
    p = put(s);
    expect(small.scan(p, size())).toBe(false);
    expect(small.count).toBe(0);
    expect(small.find("a")).toBe(-1);
  });

  it("should forget the members of a previous scan when one fails", () => {
    expect(scan(PING)).toBe(true);
    expect(scan('{"event":"x",}')).toBe(false);
    expect(obj.count).toBe(0);
    expect(obj.find("event")).toBe(-1);
  });

  it("should reject a top level that is not one object", () => {
    expect(scan("")).toBe(false);
    expect(scan("   ")).toBe(false);
    expect(scan("[]")).toBe(false);
    expect(scan('"{}"')).toBe(false);
    expect(scan("1")).toBe(false);
    expect(scan("null")).toBe(false);
    expect(scan("{}{}")).toBe(false);
    expect(scan('{"a":1}x')).toBe(false);
    expect(scan('{"a":1} 1')).toBe(false);
    expect(scan('{"a":1}}')).toBe(false);
    expect(scan('{"a":1},')).toBe(false);
  });

  it("should reject malformed members", () => {
    expect(scan('{"a":1,}')).toBe(false);
    expect(scan("{,}")).toBe(false);
    expect(scan('{,"a":1}')).toBe(false);
    expect(scan('{"a":1,,"b":2}')).toBe(false);
    expect(scan('{"a" 1}')).toBe(false);
    expect(scan('{"a":}')).toBe(false);
    expect(scan('{"a"}')).toBe(false);
    expect(scan('{"a":1 "b":2}')).toBe(false);
    expect(scan("{a:1}")).toBe(false);
    expect(scan("{'a':1}")).toBe(false);
    expect(scan('{"a":\'b\'}')).toBe(false);
    expect(scan('{1:1}')).toBe(false);
    expect(scan('{"a"::1}')).toBe(false);
    expect(scan('{"a":1]')).toBe(false);
    expect(scan('{"a":[1}')).toBe(false);
    expect(scan('{"a":"b}')).toBe(false);
    expect(scan('{"a\\":1}')).toBe(false);
  });

  it("should reject every truncation of a valid frame", () => {
    for (let f = 0; f < FRAMES.length; f++) {
      const p = put(FRAMES[f]);
      const n = size();
      expect(obj.scan(p, n)).toBe(true);
      for (let len: usize = 0; len < n; len++) {
        expect(obj.scan(p, len)).toBe(false);
        expect(validateValue(p, len)).toBe(false);
      }
    }
  });

  it("should accept 32 levels of nesting and reject 33", () => {
    expect(scan('{"a":' + nested("[", "]", 31) + "}")).toBe(true);
    expect(scan('{"a":' + nested("[", "]", 32) + "}")).toBe(false);
    expect(scan('{"a":' + '{"b":'.repeat(31) + "1" + "}".repeat(32))).toBe(true);
    expect(scan('{"a":' + '{"b":'.repeat(32) + "1" + "}".repeat(33))).toBe(false);
  });
});

describe("validateValue", () => {
  it("should accept every kind of value", () => {
    expect(valid("0")).toBe(true);
    expect(valid("-0")).toBe(true);
    expect(valid("123")).toBe(true);
    expect(valid("-1.5")).toBe(true);
    expect(valid("1.0e10")).toBe(true);
    expect(valid("1E+2")).toBe(true);
    expect(valid("0.5e-07")).toBe(true);
    expect(valid("true")).toBe(true);
    expect(valid("false")).toBe(true);
    expect(valid("null")).toBe(true);
    expect(valid('""')).toBe(true);
    expect(valid('"héllo \u{1F600}"')).toBe(true);
    expect(valid("[]")).toBe(true);
    expect(valid("{}")).toBe(true);
    expect(valid(' [1, "a", {"b": [null, true]}, false] ')).toBe(true);
    for (let f = 0; f < FRAMES.length; f++) expect(valid(FRAMES[f])).toBe(true);
  });

  it("should reject empty input and more than one value", () => {
    expect(valid("")).toBe(false);
    expect(valid(" \n")).toBe(false);
    expect(valid("1 2")).toBe(false);
    expect(valid("[] []")).toBe(false);
    expect(valid('"a""b"')).toBe(false);
    expect(valid("truefalse")).toBe(false);
  });

  it("should reject malformed numbers", () => {
    expect(valid("01")).toBe(false);
    expect(valid("-01")).toBe(false);
    expect(valid("00")).toBe(false);
    expect(valid("-")).toBe(false);
    expect(valid("--1")).toBe(false);
    expect(valid("+1")).toBe(false);
    expect(valid("1.")).toBe(false);
    expect(valid(".5")).toBe(false);
    expect(valid("1.e5")).toBe(false);
    expect(valid("1e")).toBe(false);
    expect(valid("1e+")).toBe(false);
    expect(valid("1e-")).toBe(false);
    expect(valid("1e5.0")).toBe(false);
    expect(valid("0x10")).toBe(false);
    expect(valid("NaN")).toBe(false);
    expect(valid("Infinity")).toBe(false);
    expect(valid("-Infinity")).toBe(false);
    expect(valid("[01]")).toBe(false);
    expect(valid('{"a":1.}')).toBe(false);
  });

  it("should reject malformed literals", () => {
    expect(valid("tru")).toBe(false);
    expect(valid("True")).toBe(false);
    expect(valid("nul")).toBe(false);
    expect(valid("nulll")).toBe(false);
    expect(valid("fals")).toBe(false);
    expect(valid("falsey")).toBe(false);
    expect(valid("undefined")).toBe(false);
  });

  it("should accept every escape", () => {
    expect(valid('"\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u00E9\\ud83d\\ude00"')).toBe(true);
  });

  it("should reject malformed strings", () => {
    expect(valid('"abc')).toBe(false);
    expect(valid('"abc\\"')).toBe(false);
    expect(valid('"\\x"')).toBe(false);
    expect(valid("\"\\'\"")).toBe(false);
    expect(valid('"\\u12"')).toBe(false);
    expect(valid('"\\u12G4"')).toBe(false);
    expect(valid('"\\U0041"')).toBe(false);
    expect(valid('"\\')).toBe(false);
    expect(valid("'a'")).toBe(false);
  });

  it("should reject raw control characters in strings but not DEL", () => {
    for (let c = 0; c < 0x20; c++) {
      expect(valid('"a' + String.fromCharCode(c) + 'b"')).toBe(false);
    }
    expect(valid('"a' + String.fromCharCode(0x7F) + 'b"')).toBe(true);
  });

  it("should reject lone surrogates", () => {
    expect(valid('"\\ud83d"')).toBe(false);
    expect(valid('"\\ude00"')).toBe(false);
    expect(valid('"\\ud83dx"')).toBe(false);
    expect(valid('"\\ud83d\\u0041"')).toBe(false);
    expect(valid('"\\ud83d\\ud83d"')).toBe(false);
    expect(valid('"\\ud83d\\n"')).toBe(false);
    expect(valid('"\\ude00\\ud83d"')).toBe(false);
  });

  it("should accept 32 levels of nesting and reject 33", () => {
    expect(valid(nested("[", "]", 32))).toBe(true);
    expect(valid(nested("[", "]", 33))).toBe(false);
    expect(valid('{"a":'.repeat(32) + "0" + "}".repeat(32))).toBe(true);
    expect(valid('{"a":'.repeat(33) + "0" + "}".repeat(33))).toBe(false);
    expect(valid('[{"a":'.repeat(16) + "0" + "}]".repeat(16))).toBe(true);
    expect(valid('[{"a":'.repeat(16) + "[]" + "}]".repeat(16))).toBe(false);
    expect(valid(nested("[", "]", 10000))).toBe(false);
    expect(valid("[".repeat(10000))).toBe(false);
  });
});

describe("ArrayScanner", () => {
  it("should iterate channel names as raw string spans", () => {
    expect(begin('["private-a", "presence-b","c\\u00e9"]')).toBe(true);
    expect(arr.next()).toBe(true);
    expect(arr.type).toBe(JsonType.String);
    expect(text(arr.start, arr.len)).toBe("private-a");
    expect(arr.escaped).toBe(false);
    expect(arr.next()).toBe(true);
    expect(text(arr.start, arr.len)).toBe("presence-b");
    expect(arr.next()).toBe(true);
    expect(text(arr.start, arr.len)).toBe("c\\u00e9");
    expect(arr.escaped).toBe(true);
    expect(arr.next()).toBe(false);
    expect(arr.type).toBe(JsonType.None);
    expect(arr.next()).toBe(false);
  });

  it("should iterate numbers and nested values with their full text", () => {
    expect(begin(' [1, -2.5e1 ,[3,[4]], {"a":[]}, true, null, false ] ')).toBe(true);
    const types: JsonType[] = [
      JsonType.Number, JsonType.Number, JsonType.Array, JsonType.Object,
      JsonType.True, JsonType.Null, JsonType.False,
    ];
    const texts = ["1", "-2.5e1", "[3,[4]]", '{"a":[]}', "true", "null", "false"];
    for (let i = 0; i < types.length; i++) {
      expect(arr.next()).toBe(true);
      expect(arr.type).toBe(types[i]);
      expect(text(arr.start, arr.len)).toBe(texts[i]);
    }
    expect(arr.next()).toBe(false);
  });

  it("should iterate nothing in an empty array", () => {
    expect(begin("[ ]")).toBe(true);
    expect(arr.next()).toBe(false);
  });

  it("should reject anything but one valid array", () => {
    expect(begin("")).toBe(false);
    expect(arr.next()).toBe(false);
    expect(begin("{}")).toBe(false);
    expect(begin('"[]"')).toBe(false);
    expect(begin("[1,]")).toBe(false);
    expect(begin("[,1]")).toBe(false);
    expect(begin("[1 2]")).toBe(false);
    expect(begin("[1]]")).toBe(false);
    expect(begin("[1] x")).toBe(false);
    expect(begin('["a]')).toBe(false);
    expect(arr.next()).toBe(false);
    expect(begin(nested("[", "]", 33))).toBe(false);
    const p = put('["a","b"]');
    for (let len: usize = 0; len < size(); len++) expect(arr.begin(p, len)).toBe(false);
  });

  it("should start over on each begin", () => {
    expect(begin("[1,2]")).toBe(true);
    expect(arr.next()).toBe(true);
    expect(begin('["x"]')).toBe(true);
    expect(arr.next()).toBe(true);
    expect(text(arr.start, arr.len)).toBe("x");
    expect(arr.next()).toBe(false);
  });
});

describe("unescapeString", () => {
  it("should decode \\u escapes to UTF-8", () => {
    expect(unescapeHex("\\u00e9")).toBe("c3a9");
    expect(unescapeHex("\\u0041\\u00C9")).toBe("41c389");
    expect(unescapeHex("\\u20ac")).toBe("e282ac");
    expect(unescapeHex("\\u0000")).toBe("00");
    expect(unescapeHex("\\uffff")).toBe("efbfbf");
  });

  it("should decode a surrogate pair to four bytes", () => {
    expect(unescapeHex("\\ud83d\\ude00")).toBe("f09f9880");
    expect(unescapeHex("\\uDBFF\\uDFFF")).toBe("f48fbfbf");
  });

  it("should decode the short escapes", () => {
    expect(unescapeHex('\\"')).toBe("22");
    expect(unescapeHex('\\"\\\\\\/\\b\\f\\n\\r\\t')).toBe("225c2f080c0a0d09");
  });

  it("should copy other bytes as they are", () => {
    expect(unescapeHex("")).toBe("");
    expect(unescapeHex("abc")).toBe("616263");
    expect(unescapeHex("é\\n€")).toBe("c3a90ae282ac");
  });

  it("should decode in place", () => {
    const p = put('a\\"b\\u00e9c\\ud83d\\ude00d');
    const n = unescapeString(p, size(), p);
    expect(text(p, n)).toBe('a"béc\u{1F600}d');
  });

  it("should decode escapes at every offset of a long string, in place", () => {
    for (let k = 0; k < 40; k++) {
      const pad = "x".repeat(k);
      const p = put(pad + "\\n" + "y".repeat(17) + "\\u00e9\\\"" + pad + "z".repeat(20) + "\\ud83d\\ude00");
      const n = unescapeString(p, size(), p);
      expect(text(p, n)).toBe(pad + "\n" + "y".repeat(17) + "é\"" + pad + "z".repeat(20) + "\u{1F600}");
    }
  });

  it("should fail on malformed escapes and lone surrogates", () => {
    expect(unescapeHex("\\x")).toBe("error");
    expect(unescapeHex("\\u12")).toBe("error");
    expect(unescapeHex("\\u12g4")).toBe("error");
    expect(unescapeHex("abc\\")).toBe("error");
    expect(unescapeHex("\\ud83d")).toBe("error");
    expect(unescapeHex("\\ude00")).toBe("error");
    expect(unescapeHex("\\ud83d\\u0041")).toBe("error");
  });
});

describe("writer", () => {
  it("should quote and escape quotes, backslashes and control characters", () => {
    out.reset();
    const p = put('say "hi"\\\n\r\t\b\f' + String.fromCharCode(1) + String.fromCharCode(0x1F) + "/");
    writeString(out, p, size());
    expect(written()).toBe('"say \\"hi\\"\\\\\\n\\r\\t\\b\\f\\u0001\\u001f/"');
  });

  it("should copy bytes from 0x7f up as they are", () => {
    out.reset();
    const p = put("é€\u{1F600}" + String.fromCharCode(0x7F));
    writeString(out, p, size());
    expect(hex(out.ptr, out.len)).toBe("22c3a9e282acf09f98807f22");
  });

  it("should write content without quotes after what is in the buffer", () => {
    out.reset();
    out.byte(0x22);
    let p = put('{"socket_id":"');
    writeStringContent(out, p, size());
    p = put("1.2");
    writeStringContent(out, p, size());
    p = put('"}');
    writeStringContent(out, p, size());
    out.byte(0x22);
    expect(written()).toBe('"{\\"socket_id\\":\\"1.2\\"}"');
    expect(validateValue(out.ptr, out.len)).toBe(true);
  });

  it("should escape at every offset of a long string", () => {
    for (let k = 0; k < 40; k++) {
      out.reset();
      const pad = "x".repeat(k);
      const p = put(pad + '"' + "y".repeat(17) + "\n\\" + pad + "é".repeat(20) + String.fromCharCode(2));
      writeString(out, p, size());
      expect(written()).toBe(
        '"' + pad + '\\"' + "y".repeat(17) + "\\n\\\\" + pad + "é".repeat(20) + '\\u0002"',
      );
    }
  });

  it("should write empty strings", () => {
    out.reset();
    writeString(out, 0, 0);
    writeStringContent(out, 0, 0);
    expect(written()).toBe('""');
  });

  it("should round-trip every byte through unescapeString", () => {
    const n = 1000;
    const src = new ArrayBuffer(n);
    const s = changetype<usize>(src);
    for (let i = 0; i < n; i++) store<u8>(s + <usize>i, <u8>(i * 7));
    out.reset();
    writeString(out, s, <usize>n);
    expect(validateValue(out.ptr, out.len)).toBe(true);
    const len = <usize>(out.len - 2);
    const n2 = unescapeString(out.ptr + 1, len, out.ptr + 1); // in place
    expect(n2).toBe(n);
    expect(memory.compare(out.ptr + 1, s, <usize>n)).toBe(0);
  });

  it("should round-trip frames through writeStringContent", () => {
    for (let f = 0; f < FRAMES.length; f++) {
      const p = put(FRAMES[f]);
      out.reset();
      writeStringContent(out, p, size());
      const dst = new ArrayBuffer(<i32>out.len);
      const n = unescapeString(out.ptr, out.len, changetype<usize>(dst));
      expect(n).toBe(<i32>size());
      expect(memory.compare(changetype<usize>(dst), p, size())).toBe(0);
    }
  });
});

// Every byte of each frame replaced by each of these, and deleted.
const BYTES: u8[] = [
  0x00, 0x01, 0x09, 0x20, 0x22, 0x2C, 0x2D, 0x2E, 0x30, 0x31, 0x3A, 0x5B, 0x5C,
  0x5D, 0x65, 0x6E, 0x74, 0x75, 0x7B, 0x7D, 0x7F, 0xC3, 0xFF,
];

/**
 * Runs every entry point over the span. Returns 1 if an object scanned but a
 * member does not hold up on its own, else 0.
 */
function exercise(p: usize, n: usize, dst: usize): i32 {
  validateValue(p, n);
  if (arr.begin(p, n)) while (arr.next()) {}
  unescapeString(p, n, dst);
  if (!obj.scan(p, n)) return 0;
  for (let i = 0; i < obj.count; i++) {
    const type = obj.type(i);
    if (!validateValue(obj.rawStart(i), obj.rawLen(i))) return 1;
    if (type == JsonType.String && unescapeString(obj.valueStart(i), obj.valueLen(i), dst) < 0) return 1;
    if (type == JsonType.Array) {
      if (!arr.begin(obj.valueStart(i), obj.valueLen(i))) return 1;
      while (arr.next()) if (arr.type == JsonType.None) return 1;
    }
  }
  return 0;
}

describe("hostile input", () => {
  it("should never trap on single-byte changes to frames", () => {
    const buf = new ArrayBuffer(512);
    const dst = new ArrayBuffer(512);
    const b = changetype<usize>(buf);
    const d = changetype<usize>(dst);
    let accepted = 0;
    let inconsistent = 0;
    for (let f = 0; f < FRAMES.length; f++) {
      const p = put(FRAMES[f]);
      const n = size();
      for (let i: usize = 0; i < n; i++) {
        for (let k = 0; k < BYTES.length; k++) {
          memory.copy(b, p, n);
          store<u8>(b + i, BYTES[k]);
          inconsistent += exercise(b, n, d);
          if (obj.count) accepted++;
        }
        memory.copy(b, p, i);
        memory.copy(b + i, p + i + 1, n - i - 1);
        inconsistent += exercise(b, n - 1, d);
      }
    }
    expect(accepted).toBeGreaterThan(1000);
    expect(inconsistent).toBe(0);
  });

  it("should never trap on random bytes", () => {
    const n = 64;
    const buf = new ArrayBuffer(n);
    const dst = new ArrayBuffer(n);
    const b = changetype<usize>(buf);
    let x: u32 = 0x9E3779B9;
    let inconsistent = 0;
    for (let round = 0; round < 20000; round++) {
      for (let i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        // Mostly JSON punctuation, so that scans get past the first byte.
        store<u8>(b + <usize>i, unchecked(BYTES[<i32>(x % <u32>BYTES.length)]));
      }
      store<u8>(b, round & 1 ? 0x5B : 0x7B);
      inconsistent += exercise(b, <usize>(x % n), changetype<usize>(dst));
    }
    expect(inconsistent).toBe(0);
  });
});
