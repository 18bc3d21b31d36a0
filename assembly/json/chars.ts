// Byte values the JSON scanner and writer look at (ASCII, so also UTF-8),
// and the SIMD test for bytes that end a run of plain string content.

export const enum CharCode {
  TAB = 0x09,
  LF = 0x0A,
  CR = 0x0D,
  SPACE = 0x20,
  QUOTE = 0x22,
  PLUS = 0x2B,
  COMMA = 0x2C,
  MINUS = 0x2D,
  DOT = 0x2E,
  SLASH = 0x2F,
  _0 = 0x30,
  COLON = 0x3A,
  LBRACKET = 0x5B,
  BACKSLASH = 0x5C,
  RBRACKET = 0x5D,
  a = 0x61,
  b = 0x62,
  e = 0x65,
  f = 0x66,
  n = 0x6E,
  r = 0x72,
  t = 0x74,
  u = 0x75,
  LBRACE = 0x7B,
  RBRACE = 0x7D,
}

/**
 * Bit i is set if byte i of the 16 at `p` needs attention inside a JSON
 * string: a quote, a backslash or a control character. Strings are most of a
 * Pusher frame (auth signatures, channel_data), so they are skipped 16 bytes
 * at a time; callers make sure that `p + 16` is within their input.
 */
// @ts-ignore: decorator
@inline export function stringSpecials(p: usize): i32 {
  const v = v128.load(p);
  return i8x16.bitmask(
    v128.or(
      v128.or(i8x16.eq(v, i8x16.splat(<i8>CharCode.QUOTE)), i8x16.eq(v, i8x16.splat(<i8>CharCode.BACKSLASH))),
      i8x16.lt_u(v, i8x16.splat(<i8>CharCode.SPACE)),
    ),
  );
}

/**
 * The same test on the 8 bytes of `x` (loaded little-endian), for spans too
 * short for 16: the high bit of byte i is set if byte i needs attention, and
 * bits above the first such byte may be set too (borrows), so only the
 * lowest set bit (`ctz(m) >> 3`) is meaningful.
 */
// @ts-ignore: decorator
@inline export function stringSpecials8(x: u64): u64 {
  const ones: u64 = 0x0101010101010101;
  const highs: u64 = 0x8080808080808080;
  const q = x ^ (ones * CharCode.QUOTE);
  const b = x ^ (ones * CharCode.BACKSLASH);
  return ((x - ones * CharCode.SPACE) | (q - ones) | (b - ones)) & ~x & highs;
}
