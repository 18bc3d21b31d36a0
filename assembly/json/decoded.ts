// A JSON string's content as the protocol compares it: decoded (RFC 8259 §7)
// when it holds escapes, the raw span itself when it does not.

import { ByteBuffer } from "../frame/buffer";
import { unescapeString } from "./scanner";

/**
 * Points at the decoded content of one string value. Allocate once and
 * reuse: strings without escapes (nearly all) are never copied; escaped ones
 * are decoded into the object's own buffer, valid until the next `set`.
 */
export class DecodedString {
  ptr: usize = 0;
  len: usize = 0;
  private buf: ByteBuffer;

  constructor(capacity: u32 = 256) {
    this.buf = new ByteBuffer(capacity);
  }

  /**
   * Sets the span to the raw content `ptr[0..len)` of a string the scanner
   * accepted, decoded first when `escaped`. False (and an empty span) on a
   * malformed escape, which a scanned string never has.
   */
  set(ptr: usize, len: usize, escaped: bool): bool {
    if (!escaped) {
      this.ptr = ptr;
      this.len = len;
      return true;
    }
    const buf = this.buf;
    buf.reset();
    const n = unescapeString(ptr, len, buf.ensure(<u32>len));
    this.ptr = buf.ptr;
    if (n < 0) {
      this.len = 0;
      return false;
    }
    buf.len = <u32>n;
    this.len = <usize>n;
    return true;
  }
}
