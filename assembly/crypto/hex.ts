// Lowercase hexadecimal encoding.

// @ts-ignore: decorator
@lazy const DIGITS = memory.data<u8>([
  0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
  0x38, 0x39, 0x61, 0x62, 0x63, 0x64, 0x65, 0x66,
]);

/**
 * Writes the `2 * len` lowercase hex digits of `len` bytes at `src` to `out`.
 * It works from the end, so `out` may start at `src` (in-place encoding).
 */
export function hexEncode(src: usize, len: usize, out: usize): void {
  while (len) {
    len--;
    const b = <usize>load<u8>(src + len);
    store<u16>(
      out + (len << 1),
      <u16>load<u8>(DIGITS + (b >> 4)) | (<u16>load<u8>(DIGITS + (b & 15)) << 8),
    );
  }
}
