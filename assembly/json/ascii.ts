// ASCII literals (AssemblyScript strings, UTF-16 in memory) compared with and
// copied into UTF-8 bytes eight characters at a time: protocol code matches
// and writes them on every message, and a loop per character costs a loop
// check per character under the host's interrupt instrumentation. Literals
// must be ASCII: a wider character is narrowed to 0xFF. Nothing is read or
// written outside the spans given.

/** The 8 characters at `lit` as 8 bytes, first in the low byte. */
// @ts-ignore: decorator
@inline function narrow8(lit: usize): u64 {
  const v = v128.load(lit);
  return i64x2.extract_lane(i8x16.narrow_i16x8_u(v, v), 0);
}

/** The 4 characters at `lit` as 4 bytes, first in the low byte. */
// @ts-ignore: decorator
@inline function narrow4(lit: usize): u32 {
  const v = v128.load64_zero(lit);
  return i32x4.extract_lane(i8x16.narrow_i16x8_u(v, v), 0);
}

/** Whether the `n` bytes at `ptr` equal the first `n` characters of the literal at `lit`. */
// @ts-ignore: decorator
@inline export function asciiEquals(ptr: usize, lit: usize, n: usize): bool {
  if (n >= 8) {
    // Whole words, then the last 8 characters, overlapping the previous word.
    for (let i: usize = 0; i + 8 < n; i += 8) {
      if (load<u64>(ptr + i) != narrow8(lit + (i << 1))) return false;
    }
    return load<u64>(ptr + n - 8) == narrow8(lit + ((n - 8) << 1));
  }
  if (n >= 4) return load<u32>(ptr) == narrow4(lit) && load<u32>(ptr + n - 4) == narrow4(lit + ((n - 4) << 1));
  for (let i: usize = 0; i < n; i++) {
    if (<u16>load<u8>(ptr + i) != load<u16>(lit + (i << 1))) return false;
  }
  return true;
}

/** Writes the first `n` characters of the literal at `lit` as `n` bytes at `dst`. */
// @ts-ignore: decorator
@inline export function asciiCopy(dst: usize, lit: usize, n: usize): void {
  if (n >= 8) {
    for (let i: usize = 0; i + 8 < n; i += 8) store<u64>(dst + i, narrow8(lit + (i << 1)));
    store<u64>(dst + n - 8, narrow8(lit + ((n - 8) << 1)));
    return;
  }
  if (n >= 4) {
    store<u32>(dst, narrow4(lit));
    store<u32>(dst + n - 4, narrow4(lit + ((n - 4) << 1)));
    return;
  }
  for (let i: usize = 0; i < n; i++) store<u8>(dst + i, <u8>load<u16>(lit + (i << 1)));
}
