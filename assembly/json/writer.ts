// Writes JSON strings into a ByteBuffer from UTF-8 bytes. Only `"`, `\` and
// control characters are escaped; other bytes, multi-byte UTF-8 included, are
// copied in runs.

import { ByteBuffer } from "../frame/buffer";
import { CharCode } from "./chars";

// The letter of the short escape of each control character; 0 for \u00XX.
const SHORT_ESCAPES = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0,
  <u8>CharCode.b, <u8>CharCode.t, <u8>CharCode.n, 0, <u8>CharCode.f, <u8>CharCode.r, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0,
]);

function writeEscape(out: ByteBuffer, c: i32): void {
  const p = out.ensure(6);
  store<u8>(p, CharCode.BACKSLASH);
  const letter = c < CharCode.SPACE ? <i32>load<u8>(SHORT_ESCAPES + <usize>c) : c;
  if (letter) {
    store<u8>(p, letter, 1);
    out.len += 2;
    return;
  }
  store<u8>(p, CharCode.u, 1);
  store<u16>(p, 0x3030, 2); // "00"
  store<u8>(p, CharCode._0 + (c >> 4), 4);
  const low = c & 0xF;
  store<u8>(p, low < 10 ? CharCode._0 + low : CharCode.a - 10 + low, 5);
  out.len += 6;
}

/** Writes the escaped content of a JSON string, without the quotes. */
export function writeStringContent(out: ByteBuffer, src: usize, len: usize): void {
  const end = src + len;
  let run = src;
  for (let p = src; p < end; p++) {
    const c = <i32>load<u8>(p);
    if (c != CharCode.QUOTE && c != CharCode.BACKSLASH && c >= CharCode.SPACE) continue;
    out.bytes(run, <u32>(p - run));
    writeEscape(out, c);
    run = p + 1;
  }
  out.bytes(run, <u32>(end - run));
}

/** Writes a JSON string: quotes around the escaped content. */
export function writeString(out: ByteBuffer, src: usize, len: usize): void {
  out.byte(<u8>CharCode.QUOTE);
  writeStringContent(out, src, len);
  out.byte(<u8>CharCode.QUOTE);
}
