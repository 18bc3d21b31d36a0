// JSON string escapes (RFC 8259 §7): reading one, and comparing or decoding
// escaped string content. The scanner validates strings with readEscape;
// protocol code decodes what it compares.

import { CharCode, stringSpecials } from "./chars";

// readEscape returns the position past the escape, or FAIL.
// @ts-ignore: decorator
@inline const FAIL: usize = 0;

// The code point of the last escape readEscape read: a side result, so that
// its return value stays a position.
let escapeCode: u32 = 0;

// @ts-ignore: decorator
@inline function hexValue(c: u32): i32 {
  if (c - CharCode._0 < 10) return <i32>(c - CharCode._0);
  c = (c | 0x20) - CharCode.a; // folds A-F onto a-f
  return c < 6 ? <i32>c + 10 : -1;
}

/** Reads four hex digits; negative if any is not one. */
function readHex4(p: usize, end: usize): i32 {
  if (p + 4 > end) return -1;
  return (
    (hexValue(load<u8>(p)) << 12) |
    (hexValue(load<u8>(p, 1)) << 8) |
    (hexValue(load<u8>(p, 2)) << 4) |
    hexValue(load<u8>(p, 3))
  );
}

/** Reads the escape after a backslash at `p` into `escapeCode`. */
export function readEscape(p: usize, end: usize): usize {
  if (p >= end) return FAIL;
  let c = <u32>load<u8>(p);
  switch (c) {
    case CharCode.QUOTE:
    case CharCode.BACKSLASH:
    case CharCode.SLASH: break;
    case CharCode.b: { c = 0x08; break; }
    case CharCode.f: { c = 0x0C; break; }
    case CharCode.n: { c = CharCode.LF; break; }
    case CharCode.r: { c = CharCode.CR; break; }
    case CharCode.t: { c = CharCode.TAB; break; }
    case CharCode.u: {
      const code = readHex4(p + 1, end);
      if (code < 0) return FAIL;
      p += 5;
      if (<u32>code - 0xD800 >= 0x800) {
        escapeCode = code;
        return p;
      }
      // A surrogate must be a high one followed by an escaped low one.
      if (code >= 0xDC00 || p + 6 > end || load<u16>(p) != 0x755C) return FAIL; // "\u"
      const low = readHex4(p + 2, end);
      if (<u32>low - 0xDC00 >= 0x400) return FAIL;
      escapeCode = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00);
      return p + 6;
    }
    default: return FAIL;
  }
  escapeCode = c;
  return p + 1;
}

/**
 * Whether the raw content of a JSON string, `src[0..len)`, decodes to the
 * `n` UTF-16 code units of the ASCII literal at `lit`; decodes as it goes,
 * without a buffer.
 */
export function escapedEquals(src: usize, len: usize, lit: usize, n: usize): bool {
  const end = src + len;
  let p = src;
  let j: usize = 0;
  while (p < end) {
    if (j == n) return false;
    let c = <u32>load<u8>(p++);
    if (c == CharCode.BACKSLASH) {
      p = readEscape(p, end);
      if (!p) return false;
      c = escapeCode;
    }
    if (c != <u32>load<u16>(lit + (j++ << 1))) return false;
  }
  return j == n;
}

/** Encodes a code point as UTF-8 at `dst`; returns the position after it. */
// @ts-ignore: decorator
@inline function writeUtf8(dst: usize, c: u32): usize {
  if (c < 0x80) {
    store<u8>(dst, c);
    return dst + 1;
  }
  if (c < 0x800) {
    store<u8>(dst, 0xC0 | (c >> 6));
    store<u8>(dst, 0x80 | (c & 0x3F), 1);
    return dst + 2;
  }
  if (c < 0x10000) {
    store<u8>(dst, 0xE0 | (c >> 12));
    store<u8>(dst, 0x80 | ((c >> 6) & 0x3F), 1);
    store<u8>(dst, 0x80 | (c & 0x3F), 2);
    return dst + 3;
  }
  store<u8>(dst, 0xF0 | (c >> 18));
  store<u8>(dst, 0x80 | ((c >> 12) & 0x3F), 1);
  store<u8>(dst, 0x80 | ((c >> 6) & 0x3F), 2);
  store<u8>(dst, 0x80 | (c & 0x3F), 3);
  return dst + 4;
}

/**
 * Decodes the raw content of a JSON string (between the quotes) into UTF-8 at
 * `dst`, which may be `src` itself: the output is never longer than the
 * input. Returns the decoded length, or -1 on a malformed escape or a lone
 * surrogate. Bytes other than escapes are copied as they are.
 */
export function unescapeString(src: usize, len: usize, dst: usize): i32 {
  const end = src + len;
  let p = src;
  let q = dst;
  while (p < end) {
    if (p + 16 <= end) {
      // Whole vectors only: decoding in place, a wider store would overwrite
      // input not read yet. The store stays within the output, q - dst <= p - src.
      const m = stringSpecials(p);
      if (!m) {
        v128.store(q, v128.load(p));
        p += 16;
        q += 16;
        continue;
      }
      for (const stop = p + ctz(m); p < stop; ) store<u8>(q++, load<u8>(p++));
    }
    const c = load<u8>(p++);
    if (c != CharCode.BACKSLASH) {
      store<u8>(q++, c);
      continue;
    }
    p = readEscape(p, end);
    if (!p) return -1;
    q = writeUtf8(q, escapeCode);
  }
  return <i32>(q - dst);
}
