// UTF-8 validation (RFC 3629) of bytes the engine puts into text frames that
// the host did not validate: HTTP API bodies, native publishes, relay
// records and the auth workers' answers. A text frame with invalid UTF-8
// makes every client fail its connection (RFC 6455 §8.1, close 1007).

/** Whether `ptr[0..len)` is well-formed UTF-8: no overlongs, surrogates or code points past U+10FFFF. */
export function isValidUtf8(ptr: usize, len: usize): bool {
  const end = ptr + len;
  let p = ptr;
  while (p < end) {
    // ASCII runs, 8 bytes at a time.
    if (p + 8 <= end && (load<u64>(p) & 0x8080808080808080) == 0) {
      p += 8;
      continue;
    }
    const c = <u32>load<u8>(p);
    if (c < 0x80) {
      p++;
      continue;
    }
    let n: usize;
    let min: u32;
    let cp: u32;
    if ((c & 0xE0) == 0xC0) {
      n = 1; min = 0x80; cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2; min = 0x800; cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3; min = 0x10000; cp = c & 0x07;
    } else {
      return false;
    }
    if (n > end - p - 1) return false;
    for (let i: usize = 1; i <= n; i++) {
      const b = <u32>load<u8>(p + i);
      if ((b & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || cp - 0xD800 < 0x800) return false;
    p += n + 1;
  }
  return true;
}
