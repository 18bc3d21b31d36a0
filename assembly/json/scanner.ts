// A strict (RFC 8259), non-allocating JSON scanner over UTF-8 bytes in linear
// memory. It validates and records spans, it never builds values: protocol
// code reads the few fields it needs and copies the rest verbatim. Malformed
// input of any kind yields `false`, never a trap, because a trap would fail
// the whole batch of events being processed.
//
// - Nesting deeper than MAX_DEPTH objects and arrays is rejected, and
//   `nestedTooDeeply()` tells that failure from the others.
// - Lone surrogates in \u escapes are rejected (they have no UTF-8 form), so
//   every string that scans also unescapes.
// - UTF-8 is not validated here: the host checks WebSocket messages, and
//   json/utf8.ts what the host passes unchecked.

import { asciiEquals } from "./ascii";
import { CharCode, stringSpecials, stringSpecials8 } from "./chars";
import { escapedEquals, readEscape } from "./escapes";

export { unescapeString } from "./escapes";

export const enum JsonType {
  None = 0,
  String,
  Number,
  Object,
  Array,
  True,
  False,
  Null,
}

/** Deepest nesting of objects and arrays accepted, the outermost included. */
// @ts-ignore: decorator
@inline export const MAX_DEPTH = 32;

// Scan functions return the position just past what they consumed, or FAIL.
// A value is never empty, so 0 is never the end of one.
// @ts-ignore: decorator
@inline const FAIL: usize = 0;

// Bits 9, 10, 13 and 32: tab, line feed, carriage return and space.
// @ts-ignore: decorator
@inline const WHITESPACE: u64 = 0x1_0000_2600;

// Literals as little-endian u32 loads: "true", "null" and the "alse" of "false".
// @ts-ignore: decorator
@inline const TRUE: u32 = 0x65757274;
// @ts-ignore: decorator
@inline const NULL: u32 = 0x6C6C756E;
// @ts-ignore: decorator
@inline const ALSE: u32 = 0x65736C61;

// Side results, kept out of the return values so that those stay positions:
// whether the last string scanned held a backslash.
let sawEscape = false;
// Whether the last scan failed on nesting deeper than MAX_DEPTH.
let tooDeep = false;

/** Whether the last failed scan or validation failed on nesting deeper than MAX_DEPTH. */
export function nestedTooDeeply(): bool {
  return tooDeep;
}

// @ts-ignore: decorator
@inline function skipSpace(p: usize, end: usize): usize {
  // Compact JSON, the usual case, has none: no loop entered.
  if (p < end && <i32>load<u8>(p) > CharCode.SPACE) return p;
  while (p < end) {
    const c = <i32>load<u8>(p);
    if (c > CharCode.SPACE || !((<u64>1 << <u64>c) & WHITESPACE)) break;
    p++;
  }
  return p;
}

// @ts-ignore: decorator
@inline function typeOf(c: u32): JsonType {
  switch (c) {
    case CharCode.QUOTE: return JsonType.String;
    case CharCode.LBRACE: return JsonType.Object;
    case CharCode.LBRACKET: return JsonType.Array;
    case CharCode.t: return JsonType.True;
    case CharCode.f: return JsonType.False;
    case CharCode.n: return JsonType.Null;
    case CharCode.MINUS: return JsonType.Number;
  }
  return c - CharCode._0 < 10 ? JsonType.Number : JsonType.None;
}

/** Skips a string whose opening quote is before `p`; sets `sawEscape`. */
// @ts-ignore: decorator
@inline function skipString(p: usize, end: usize): usize {
  let escaped = false;
  while (p < end) {
    if (p + 16 <= end) {
      const m = stringSpecials(p);
      if (!m) {
        p += 16;
        continue;
      }
      p += ctz(m);
    } else if (p + 8 <= end) {
      const m = stringSpecials8(load<u64>(p));
      if (!m) {
        p += 8;
        continue;
      }
      p += <usize>ctz(m) >> 3;
    }
    const c = <i32>load<u8>(p++);
    if (c != CharCode.QUOTE && c != CharCode.BACKSLASH && c >= CharCode.SPACE) continue;
    if (c == CharCode.QUOTE) {
      sawEscape = escaped;
      return p;
    }
    if (c != CharCode.BACKSLASH) return FAIL; // a raw control character
    escaped = true;
    p = readEscape(p, end);
    if (!p) return FAIL;
  }
  return FAIL;
}

// @ts-ignore: decorator
@inline function skipDigits(p: usize, end: usize): usize {
  while (p < end && <u32>load<u8>(p) - CharCode._0 < 10) p++;
  return p;
}

/** Skips a number starting at `p < end`; the caller rejects what follows it. */
function skipNumber(p: usize, end: usize): usize {
  if (load<u8>(p) == CharCode.MINUS) p++;
  if (p >= end) return FAIL;
  const first = <u32>load<u8>(p++);
  if (first != CharCode._0) {
    if (first - CharCode._0 >= 10) return FAIL;
    p = skipDigits(p, end);
  }
  if (p < end && load<u8>(p) == CharCode.DOT) {
    const q = skipDigits(++p, end);
    if (q == p) return FAIL;
    p = q;
  }
  if (p < end && (load<u8>(p) | 0x20) == CharCode.e) {
    if (++p < end && (load<u8>(p) == CharCode.PLUS || load<u8>(p) == CharCode.MINUS)) p++;
    const q = skipDigits(p, end);
    if (q == p) return FAIL;
    p = q;
  }
  return p;
}

// @ts-ignore: decorator
@inline function skipWord(p: usize, end: usize, word: u32): usize {
  return p + 4 <= end && load<u32>(p) == word ? p + 4 : FAIL;
}

/** Skips one value starting at `p`, inside `depth` containers. */
function skipValue(p: usize, end: usize, depth: i32): usize {
  if (p >= end) return FAIL;
  switch (typeOf(load<u8>(p))) {
    case JsonType.String: return skipString(p + 1, end);
    case JsonType.Number: return skipNumber(p, end);
    case JsonType.Object: return scanObject(p + 1, end, depth + 1, null);
    case JsonType.Array: return scanArray(p + 1, end, depth + 1);
    case JsonType.True: return skipWord(p, end, TRUE);
    case JsonType.False: return skipWord(p + 1, end, ALSE);
    case JsonType.Null: return skipWord(p, end, NULL);
  }
  return FAIL;
}

/** Skips an array's elements and closing bracket; `p` is past the `[`. */
function scanArray(p: usize, end: usize, depth: i32): usize {
  if (depth > MAX_DEPTH) {
    tooDeep = true;
    return FAIL;
  }
  p = skipSpace(p, end);
  if (p < end && load<u8>(p) == CharCode.RBRACKET) return p + 1;
  while (true) {
    p = skipValue(p, end, depth);
    if (!p) return FAIL;
    p = skipSpace(p, end);
    if (p >= end) return FAIL;
    const c = load<u8>(p++);
    if (c == CharCode.RBRACKET) return p;
    if (c != CharCode.COMMA) return FAIL;
    p = skipSpace(p, end);
  }
}

/**
 * Skips an object's members and closing brace; `p` is past the `{`. Members
 * are recorded into `sink` if there is one.
 */
function scanObject(p: usize, end: usize, depth: i32, sink: ObjectScanner | null): usize {
  if (depth > MAX_DEPTH) {
    tooDeep = true;
    return FAIL;
  }
  p = skipSpace(p, end);
  if (p < end && load<u8>(p) == CharCode.RBRACE) return p + 1;
  while (true) {
    if (p >= end || load<u8>(p) != CharCode.QUOTE) return FAIL;
    const key = p + 1;
    p = skipString(key, end);
    if (!p) return FAIL;
    const keyLen = p - 1 - key;
    const keyEscaped = sawEscape;
    p = skipSpace(p, end);
    if (p >= end || load<u8>(p) != CharCode.COLON) return FAIL;
    const value = skipSpace(p + 1, end);
    // Strings, most values, without skipValue's dispatch.
    p = value < end && load<u8>(value) == CharCode.QUOTE ? skipString(value + 1, end) : skipValue(value, end, depth);
    if (!p) return FAIL;
    if (sink) sink.add(key, keyLen, keyEscaped, value, p);
    p = skipSpace(p, end);
    if (p >= end) return FAIL;
    const c = load<u8>(p++);
    if (c == CharCode.RBRACE) return p;
    if (c != CharCode.COMMA) return FAIL;
    p = skipSpace(p, end);
  }
}

/**
 * Whether `ptr[0..len)` can stand between the quotes of a JSON string: no
 * raw quote or control character, only valid escapes (UTF-8 not checked).
 */
export function isStringContent(ptr: usize, len: usize): bool {
  const end = ptr + len;
  let p = ptr;
  while (p < end) {
    const c = <i32>load<u8>(p++);
    if (c == CharCode.QUOTE || c < CharCode.SPACE) return false;
    if (c == CharCode.BACKSLASH) {
      p = readEscape(p, end);
      if (!p) return false;
    }
  }
  return true;
}

/** Whether `ptr[0..len)` is exactly one JSON value, whitespace around allowed. */
export function validateValue(ptr: usize, len: usize): bool {
  const end = ptr + len;
  tooDeep = false;
  const p = skipValue(skipSpace(ptr, end), end, 0);
  return p != FAIL && skipSpace(p, end) == end;
}

// The layout of one ObjectScanner member record.
// @ts-ignore: decorator
@inline const M_KEY: usize = 0;
// @ts-ignore: decorator
@inline const M_KEY_LEN: usize = 4;
// @ts-ignore: decorator
@inline const M_VALUE: usize = 8;
// @ts-ignore: decorator
@inline const M_VALUE_LEN: usize = 12;
// @ts-ignore: decorator
@inline const M_TYPE: usize = 16;
// @ts-ignore: decorator
@inline const M_ESCAPED: usize = 17;
// @ts-ignore: decorator
@inline const M_KEY_ESCAPED: usize = 18;
// @ts-ignore: decorator
@inline const MEMBER_SIZE: usize = 20;

/**
 * The top-level members of one JSON object. Allocate once and reuse: `scan`
 * does not allocate. Keys are raw bytes between the quotes, compared decoded
 * by `find` (RFC 8259 §7: `"\u0065vent"` is `"event"`). String values span
 * the raw, still escaped bytes between the quotes; other values span their
 * full text. Accessors given an index outside `0..count` (such as the -1 of
 * a failed `find`) return `None` or 0.
 */
export class ObjectScanner {
  /** Members recorded by the last `scan`; 0 if it failed. */
  count: i32 = 0;
  readonly capacity: i32;
  /**
   * One record of MEMBER_SIZE bytes per member, so that recording one costs
   * a single base address: key start, key length, value start, value length
   * (u32 each), then the type, whether the value and whether the key hold
   * escapes (u8 each).
   */
  private members: StaticArray<u8>;

  constructor(capacity: i32 = 16) {
    this.capacity = capacity;
    this.members = new StaticArray<u8>(capacity * <i32>MEMBER_SIZE);
  }

  /**
   * Validates that `ptr[0..len)` is exactly one JSON object, whitespace around
   * allowed, and records its members. An object with more than `capacity`
   * members is still validated but fails.
   */
  scan(ptr: usize, len: usize): bool {
    const end = ptr + len;
    const p = skipSpace(ptr, end);
    this.count = 0;
    tooDeep = false;
    if (p < end && load<u8>(p) == CharCode.LBRACE) {
      const q = scanObject(p + 1, end, 1, this);
      if (q && skipSpace(q, end) == end && this.count <= this.capacity) return true;
    }
    this.count = 0;
    return false;
  }

  /** Records a member for `scan`; counts it even when there is no room. */
  add(key: usize, keyLen: usize, keyEscaped: bool, value: usize, valueEnd: usize): void {
    const i = this.count++;
    if (i >= this.capacity) return;
    const type = typeOf(load<u8>(value));
    let escaped = false;
    if (type == JsonType.String) {
      escaped = sawEscape;
      value++;
      valueEnd--;
    }
    const r = this.record(i);
    store<u32>(r, <u32>key, M_KEY);
    store<u32>(r, <u32>keyLen, M_KEY_LEN);
    store<u32>(r, <u32>value, M_VALUE);
    store<u32>(r, <u32>(valueEnd - value), M_VALUE_LEN);
    store<u8>(r, <u8>type, M_TYPE);
    store<u8>(r, <u8>escaped, M_ESCAPED);
    store<u8>(r, <u8>keyEscaped, M_KEY_ESCAPED);
  }

  /** The address of member `i`'s record; `i` must be below `capacity`. */
  // @ts-ignore: decorator
  @inline private record(i: i32): usize {
    return changetype<usize>(this.members) + <usize>i * MEMBER_SIZE;
  }

  /**
   * The index of the first member whose key, decoded, equals the ASCII
   * literal `key`, or -1. Keys without escapes are compared as they are.
   */
  find(key: string): i32 {
    const n = <usize>key.length;
    const k = changetype<usize>(key);
    for (let i = 0, count = this.count; i < count; i++) {
      const r = this.record(i);
      const s = <usize>load<u32>(r, M_KEY);
      const len = <usize>load<u32>(r, M_KEY_LEN);
      if (load<u8>(r, M_KEY_ESCAPED)) {
        if (len >= n && escapedEquals(s, len, k, n)) return i;
        continue;
      }
      if (len == n && asciiEquals(s, k, n)) return i;
    }
    return -1;
  }

  type(i: i32): JsonType {
    return <u32>i < <u32>this.count ? <JsonType>load<u8>(this.record(i), M_TYPE) : JsonType.None;
  }

  keyStart(i: i32): usize {
    return <u32>i < <u32>this.count ? <usize>load<u32>(this.record(i), M_KEY) : 0;
  }

  keyLen(i: i32): usize {
    return <u32>i < <u32>this.count ? <usize>load<u32>(this.record(i), M_KEY_LEN) : 0;
  }

  valueStart(i: i32): usize {
    return <u32>i < <u32>this.count ? <usize>load<u32>(this.record(i), M_VALUE) : 0;
  }

  valueLen(i: i32): usize {
    return <u32>i < <u32>this.count ? <usize>load<u32>(this.record(i), M_VALUE_LEN) : 0;
  }

  /** Where member `i`'s full value text starts: a string's opening quote included. */
  rawStart(i: i32): usize {
    const start = this.valueStart(i);
    return this.type(i) == JsonType.String ? start - 1 : start;
  }

  /** The length of member `i`'s full value text, a string's quotes included. */
  rawLen(i: i32): usize {
    const len = this.valueLen(i);
    return this.type(i) == JsonType.String ? len + 2 : len;
  }

  /** Whether string member `i` contains escapes (needs `unescapeString`). */
  valueEscaped(i: i32): bool {
    return <u32>i < <u32>this.count ? load<u8>(this.record(i), M_ESCAPED) != 0 : false;
  }
}

/**
 * Iterates the elements of one JSON array. Allocate once and reuse: `begin`
 * validates the whole array, then each `next` moves to the following element
 * and sets `type`, `start`, `len` and `escaped` (spans as in ObjectScanner).
 */
export class ArrayScanner {
  type: JsonType = JsonType.None;
  start: usize = 0;
  len: usize = 0;
  escaped: bool = false;
  private pos: usize = 0;
  private end: usize = 0;

  /** Validates that `ptr[0..len)` is exactly one JSON array, whitespace around allowed. */
  begin(ptr: usize, len: usize): bool {
    const end = ptr + len;
    const p = skipSpace(ptr, end);
    this.pos = this.end = 0;
    tooDeep = false;
    this.type = JsonType.None;
    if (p >= end || load<u8>(p) != CharCode.LBRACKET) return false;
    const q = skipValue(p, end, 0);
    if (!q || skipSpace(q, end) != end) return false;
    this.pos = p + 1;
    this.end = q - 1; // the closing bracket
    return true;
  }

  /** Moves to the next element; false after the last one. */
  next(): bool {
    const end = this.end;
    let p = skipSpace(this.pos, end);
    if (p < end && load<u8>(p) == CharCode.COMMA) p = skipSpace(p + 1, end);
    let q = skipValue(p, end, 1);
    if (!q) {
      this.pos = end;
      this.type = JsonType.None;
      this.start = this.len = 0;
      this.escaped = false;
      return false;
    }
    this.pos = q;
    const type = typeOf(load<u8>(p));
    let escaped = false;
    if (type == JsonType.String) {
      escaped = sawEscape;
      p++;
      q--;
    }
    this.type = type;
    this.start = p;
    this.len = q - p;
    this.escaped = escaped;
    return true;
  }
}
