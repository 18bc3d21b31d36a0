// Query strings of signed HTTP API requests: percent-decoded, keys lower-cased,
// sorted by key, as the Pusher signature scheme needs them.

import { ByteBuffer } from "../frame/buffer";
import { spanEquals } from "./names";

// @ts-ignore: decorator
@inline const MAX_PARAMS: i32 = 32;

// @ts-ignore: decorator
@inline function hexValue(c: u32): i32 {
  if (c - 0x30 < 10) return <i32>(c - 0x30);
  const l = c | 0x20;
  if (l - 0x61 < 6) return <i32>(l - 0x61 + 10);
  return -1;
}

/**
 * Percent-decodes `len` bytes at `ptr` onto `out`, lower-casing ASCII letters
 * when `lower` is set; `+` is a space in query strings only, not in paths.
 * False on a bad escape.
 */
export function percentDecode(out: ByteBuffer, ptr: usize, len: usize, lower: bool, plusIsSpace: bool): bool {
  const dst = out.ensure(<u32>len);
  let n: usize = 0;
  for (let i: usize = 0; i < len; i++) {
    let c = <u32>load<u8>(ptr + i);
    if (c == 0x25) {
      if (i + 2 >= len) return false;
      const hi = hexValue(<u32>load<u8>(ptr + i + 1));
      const lo = hexValue(<u32>load<u8>(ptr + i + 2));
      if (hi < 0 || lo < 0) return false;
      c = <u32>(hi << 4 | lo);
      i += 2;
    } else if (c == 0x2b && plusIsSpace) {
      c = 0x20;
    }
    if (lower && c - 0x41 < 26) c |= 0x20;
    store<u8>(dst + n++, <u8>c);
  }
  out.len += <u32>n;
  return true;
}

export class Query {
  private buf: ByteBuffer = new ByteBuffer(512);
  private keyAt: StaticArray<u32> = new StaticArray<u32>(MAX_PARAMS);
  private keyLen: StaticArray<u32> = new StaticArray<u32>(MAX_PARAMS);
  private valAt: StaticArray<u32> = new StaticArray<u32>(MAX_PARAMS);
  private valLen: StaticArray<u32> = new StaticArray<u32>(MAX_PARAMS);
  /** Parameter indexes sorted by key. */
  private order: StaticArray<i32> = new StaticArray<i32>(MAX_PARAMS);
  count: i32 = 0;

  /** Parses a raw query string; false when it is malformed or too long. */
  parse(ptr: usize, len: usize): bool {
    const buf = this.buf;
    buf.reset();
    buf.ensure(<u32>len);
    this.count = 0;
    let start: usize = 0;
    while (start < len) {
      let end = start;
      while (end < len && load<u8>(ptr + end) != 0x26) end++;
      if (end > start) {
        if (this.count == MAX_PARAMS) return false;
        let eq = start;
        while (eq < end && load<u8>(ptr + eq) != 0x3d) eq++;
        const i = this.count++;
        unchecked((this.keyAt[i] = buf.len));
        if (!percentDecode(buf, ptr + start, eq - start, true, true)) return false;
        unchecked((this.keyLen[i] = buf.len - unchecked(this.keyAt[i])));
        unchecked((this.valAt[i] = buf.len));
        if (eq < end && !percentDecode(buf, ptr + eq + 1, end - eq - 1, false, true)) return false;
        unchecked((this.valLen[i] = buf.len - unchecked(this.valAt[i])));
      }
      start = end + 1;
    }
    this.sort();
    return true;
  }

  private sort(): void {
    const n = this.count;
    for (let i = 0; i < n; i++) {
      let j = i;
      while (j > 0 && this.compareKeys(unchecked(this.order[j - 1]), i) > 0) {
        unchecked((this.order[j] = this.order[j - 1]));
        j--;
      }
      unchecked((this.order[j] = i));
    }
  }

  private compareKeys(a: i32, b: i32): i32 {
    const la = unchecked(this.keyLen[a]);
    const lb = unchecked(this.keyLen[b]);
    const c = memory.compare(this.keyPtr(a), this.keyPtr(b), <usize>min(la, lb));
    return c != 0 ? c : <i32>la - <i32>lb;
  }

  /** The i-th parameter in key order. */
  @inline sorted(i: i32): i32 {
    return unchecked(this.order[i]);
  }

  @inline keyPtr(i: i32): usize {
    return this.buf.ptr + <usize>unchecked(this.keyAt[i]);
  }

  @inline keyLength(i: i32): usize {
    return <usize>unchecked(this.keyLen[i]);
  }

  @inline valuePtr(i: i32): usize {
    return this.buf.ptr + <usize>unchecked(this.valAt[i]);
  }

  @inline valueLength(i: i32): usize {
    return <usize>unchecked(this.valLen[i]);
  }

  /** Index of the parameter named `key` (lower-case ASCII), or -1. */
  find(key: string): i32 {
    for (let i = 0; i < this.count; i++) {
      if (spanEquals(this.keyPtr(i), this.keyLength(i), key)) return i;
    }
    return -1;
  }

  /** Whether the comma-separated value of `key` lists `item`. */
  lists(key: string, item: string): bool {
    const i = this.find(key);
    if (i < 0) return false;
    const p = this.valuePtr(i);
    const n = this.valueLength(i);
    let s: usize = 0;
    while (s <= n) {
      let e = s;
      while (e < n && load<u8>(p + e) != 0x2c) e++;
      if (spanEquals(p + s, e - s, item)) return true;
      s = e + 1;
    }
    return false;
  }
}
