// MD5 (RFC 1321), only for the REST API's `body_md5`. One-shot over raw
// memory, working in static scratch space: it never allocates.

// @ts-ignore: decorator
@lazy const K = memory.data<u32>([
  0xd76aa478, 0xe8c7b756, 0x242070db, 0xc1bdceee, 0xf57c0faf, 0x4787c62a, 0xa8304613, 0xfd469501,
  0x698098d8, 0x8b44f7af, 0xffff5bb1, 0x895cd7be, 0x6b901122, 0xfd987193, 0xa679438e, 0x49b40821,
  0xf61e2562, 0xc040b340, 0x265e5a51, 0xe9b6c7aa, 0xd62f105d, 0x02441453, 0xd8a1e681, 0xe7d3fbc8,
  0x21e1cde6, 0xc33707d6, 0xf4d50d87, 0x455a14ed, 0xa9e3e905, 0xfcefa3f8, 0x676f02d9, 0x8d2a4c8a,
  0xfffa3942, 0x8771f681, 0x6d9d6122, 0xfde5380c, 0xa4beea44, 0x4bdecfa9, 0xf6bb4b60, 0xbebfbc70,
  0x289b7ec6, 0xeaa127fa, 0xd4ef3085, 0x04881d05, 0xd9d4d039, 0xe6db99e5, 0x1fa27cf8, 0xc4ac5665,
  0xf4292244, 0x432aff97, 0xab9423a7, 0xfc93a039, 0x655b59c3, 0x8f0ccc92, 0xffeff47d, 0x85845dd1,
  0x6fa87e4f, 0xfe2ce6e0, 0xa3014314, 0x4e0811a1, 0xf7537e82, 0xbd3af235, 0x2ad7d2bb, 0xeb86d391,
]);

// Left-rotation amounts, four per round.
// @ts-ignore: decorator
@lazy const S = memory.data<u8>([7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21]);

// The last one or two blocks of the message.
// @ts-ignore: decorator
@lazy const PAD = memory.data(128);

// Chaining value A, B, C, D; little-endian, so it is also the digest.
// @ts-ignore: decorator
@lazy const STATE = memory.data(16);

function compress(state: usize, p: usize): void {
  let a = load<u32>(state, 0);
  let b = load<u32>(state, 4);
  let c = load<u32>(state, 8);
  let d = load<u32>(state, 12);
  for (let i: u32 = 0; i < 64; i++) {
    let f: u32, g: u32;
    if (i < 16) {
      f = d ^ (b & (c ^ d));
      g = i;
    } else if (i < 32) {
      f = c ^ (d & (b ^ c));
      g = 5 * i + 1;
    } else if (i < 48) {
      f = b ^ c ^ d;
      g = 3 * i + 5;
    } else {
      f = c ^ (b | ~d);
      g = 7 * i;
    }
    f += a + load<u32>(K + (<usize>i << 2)) + load<u32>(p + (<usize>(g & 15) << 2));
    a = d;
    d = c;
    c = b;
    b += rotl<u32>(f, load<u8>(S + <usize>((i >> 2) & 12 | (i & 3))));
  }
  store<u32>(state, load<u32>(state, 0) + a, 0);
  store<u32>(state, load<u32>(state, 4) + b, 4);
  store<u32>(state, load<u32>(state, 8) + c, 8);
  store<u32>(state, load<u32>(state, 12) + d, 12);
}

/** Writes the 16-byte MD5 digest of `len` bytes at `ptr` to `out`. */
export function md5(ptr: usize, len: usize, out: usize): void {
  const state = STATE;
  store<u32>(state, 0x67452301, 0);
  store<u32>(state, 0xefcdab89, 4);
  store<u32>(state, 0x98badcfe, 8);
  store<u32>(state, 0x10325476, 12);
  const end = ptr + (len & ~63);
  for (let p = ptr; p < end; p += 64) compress(state, p);
  const n = len & 63;
  const pad = PAD;
  memory.copy(pad, end, n);
  store<u8>(pad + n, 0x80);
  const last: usize = n < 56 ? 64 : 128;
  memory.fill(pad + n + 1, 0, last - 9 - n);
  store<u64>(pad + last - 8, <u64>len << 3);
  compress(state, pad);
  if (last == 128) compress(state, pad + 64);
  memory.copy(out, state, 16);
}
