// Writes JSON strings into a ByteBuffer from UTF-8 bytes. Only `"`, `\` and
// control characters are escaped; other bytes, multi-byte UTF-8 included, are
// copied as they are, 16 at a time where none needs escaping.

import { ByteBuffer } from "../frame/buffer";
import { CharCode, stringSpecials, stringSpecials8 } from "./chars";

// The letter of the short escape of each control character; 0 for \u00XX.
const SHORT_ESCAPES = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0,
  <u8>CharCode.b, <u8>CharCode.t, <u8>CharCode.n, 0, <u8>CharCode.f, <u8>CharCode.r, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0,
]);

/** Writes the escape of `c` at `q`; returns the position after it. */
// @ts-ignore: decorator
@inline function writeEscape(q: usize, c: i32): usize {
  store<u8>(q, CharCode.BACKSLASH);
  const letter = c < CharCode.SPACE ? <i32>load<u8>(SHORT_ESCAPES + <usize>c) : c;
  if (letter) {
    store<u8>(q, letter, 1);
    return q + 2;
  }
  store<u8>(q, CharCode.u, 1);
  store<u16>(q, 0x3030, 2); // "00"
  store<u8>(q, CharCode._0 + (c >> 4), 4);
  const low = c & 0xF;
  store<u8>(q, low < 10 ? CharCode._0 + low : CharCode.a - 10 + low, 5);
  return q + 6;
}

// Input is escaped in chunks so that room for the worst case (every byte
// written as \u00XX) can be made once per chunk without growing the buffer
// far beyond what is written.
// @ts-ignore: decorator
@inline const CHUNK: usize = 256;

/** Writes the escaped content of a JSON string, without the quotes. */
export function writeStringContent(out: ByteBuffer, src: usize, len: usize): void {
  const end = src + len;
  while (src < end) {
    const stop = min(end, src + CHUNK);
    let q = out.ensure(<u32>(stop - src) * 6);
    while (src < stop) {
      if (src + 16 <= stop) {
        const m = stringSpecials(src);
        v128.store(q, v128.load(src));
        const n = m ? ctz(m) : 16;
        src += n;
        q += n;
        if (n == 16) continue;
      } else if (src + 8 <= stop) {
        // Room for 8 is there: at least 6 bytes were made per input byte.
        const x = load<u64>(src);
        const m = stringSpecials8(x);
        store<u64>(q, x);
        const n = m ? <usize>ctz(m) >> 3 : 8;
        src += n;
        q += n;
        if (n == 8) continue;
      }
      const c = <i32>load<u8>(src++);
      if (c != CharCode.QUOTE && c != CharCode.BACKSLASH && c >= CharCode.SPACE) {
        store<u8>(q++, c);
      } else {
        q = writeEscape(q, c);
      }
    }
    out.len = <u32>(q - out.ptr);
  }
}

/** Writes a JSON string: quotes around the escaped content. */
export function writeString(out: ByteBuffer, src: usize, len: usize): void {
  out.byte(<u8>CharCode.QUOTE);
  writeStringContent(out, src, len);
  out.byte(<u8>CharCode.QUOTE);
}
