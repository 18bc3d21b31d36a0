// SHA-256 (FIPS 180-4) over raw memory. The streaming hasher owns its state
// and a one-block buffer from construction on; update and final allocate
// nothing. The one-shot `sha256` hashes whole blocks straight from the input.

// @ts-ignore: decorator
@lazy const K = memory.data<u32>([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
  0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
  0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
  0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
  0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
  0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
  0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
  0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
]);

/** Initial hash value H(0), 8 words. */
// @ts-ignore: decorator
@lazy export const IV = memory.data<u32>([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

// Message schedule, shared: the engine runs on one thread and compress does
// not re-enter.
// @ts-ignore: decorator
@lazy const W = memory.data(64 << 2);

// The last one or two blocks of a message, built by `finish`.
// @ts-ignore: decorator
@lazy const PAD = memory.data(128);

// Chaining value of the one-shot `sha256`.
// @ts-ignore: decorator
@lazy const STATE = memory.data(32);

/** Mixes the 64-byte block at `p` into the 8-word state at `state`. */
export function compress(state: usize, p: usize): void {
  const w = W;
  for (let i: usize = 0; i < 64; i += 4) {
    store<u32>(w + i, bswap<u32>(load<u32>(p + i)));
  }
  for (let i: usize = 64; i < 256; i += 4) {
    const x = load<u32>(w + i - 60);
    const y = load<u32>(w + i - 8);
    const s0 = rotr<u32>(x, 7) ^ rotr<u32>(x, 18) ^ (x >>> 3);
    const s1 = rotr<u32>(y, 17) ^ rotr<u32>(y, 19) ^ (y >>> 10);
    store<u32>(w + i, load<u32>(w + i - 64) + s0 + load<u32>(w + i - 28) + s1);
  }
  let a = load<u32>(state, 0);
  let b = load<u32>(state, 4);
  let c = load<u32>(state, 8);
  let d = load<u32>(state, 12);
  let e = load<u32>(state, 16);
  let f = load<u32>(state, 20);
  let g = load<u32>(state, 24);
  let h = load<u32>(state, 28);
  for (let i: usize = 0; i < 256; i += 4) {
    const t1 = h + (rotr<u32>(e, 6) ^ rotr<u32>(e, 11) ^ rotr<u32>(e, 25))
      + (g ^ (e & (f ^ g))) + load<u32>(K + i) + load<u32>(w + i);
    const t2 = (rotr<u32>(a, 2) ^ rotr<u32>(a, 13) ^ rotr<u32>(a, 22))
      + ((a & b) | (c & (a | b)));
    h = g; g = f; f = e; e = d + t1;
    d = c; c = b; b = a; a = t1 + t2;
  }
  store<u32>(state, load<u32>(state, 0) + a, 0);
  store<u32>(state, load<u32>(state, 4) + b, 4);
  store<u32>(state, load<u32>(state, 8) + c, 8);
  store<u32>(state, load<u32>(state, 12) + d, 12);
  store<u32>(state, load<u32>(state, 16) + e, 16);
  store<u32>(state, load<u32>(state, 20) + f, 20);
  store<u32>(state, load<u32>(state, 24) + g, 24);
  store<u32>(state, load<u32>(state, 28) + h, 28);
}

// Pads the `n` < 64 trailing bytes at `tail` of a `total`-byte message,
// compresses them and writes the big-endian digest to `out`.
function finish(state: usize, tail: usize, n: usize, total: u64, out: usize): void {
  const pad = PAD;
  memory.copy(pad, tail, n);
  store<u8>(pad + n, 0x80);
  const end: usize = n < 56 ? 64 : 128;
  memory.fill(pad + n + 1, 0, end - 9 - n);
  store<u64>(pad + end - 8, bswap<u64>(total << 3));
  compress(state, pad);
  if (end == 128) compress(state, pad + 64);
  for (let i: usize = 0; i < 32; i += 4) {
    store<u32>(out + i, bswap<u32>(load<u32>(state + i)));
  }
}

/** Incremental SHA-256. Call `reset` (or `restore`) again after `final`. */
export class Sha256 {
  private state: StaticArray<u32> = new StaticArray<u32>(8);
  private block: StaticArray<u8> = new StaticArray<u8>(64);
  private pending: usize = 0;
  private total: u64 = 0;

  constructor() {
    this.reset();
  }

  reset(): void {
    this.restore(IV, 0);
  }

  /** Continues from the 8-word midstate at `state`, taken after `total` bytes (a multiple of 64). */
  restore(state: usize, total: u64): void {
    memory.copy(changetype<usize>(this.state), state, 32);
    this.pending = 0;
    this.total = total;
  }

  update(ptr: usize, len: usize): void {
    const state = changetype<usize>(this.state);
    const block = changetype<usize>(this.block);
    let pending = this.pending;
    this.total += <u64>len;
    if (pending) {
      const fill = min<usize>(64 - pending, len);
      memory.copy(block + pending, ptr, fill);
      pending += fill;
      if (pending < 64) {
        this.pending = pending;
        return;
      }
      compress(state, block);
      ptr += fill;
      len -= fill;
    }
    while (len >= 64) {
      compress(state, ptr);
      ptr += 64;
      len -= 64;
    }
    memory.copy(block, ptr, len);
    this.pending = len;
  }

  /** Writes the 32-byte digest to `out`. */
  final(out: usize): void {
    finish(
      changetype<usize>(this.state),
      changetype<usize>(this.block),
      this.pending,
      this.total,
      out,
    );
  }
}

/** Writes the 32-byte SHA-256 digest of `len` bytes at `ptr` to `out`. */
export function sha256(ptr: usize, len: usize, out: usize): void {
  const state = STATE;
  memory.copy(state, IV, 32);
  const end = ptr + (len & ~63);
  for (let p = ptr; p < end; p += 64) compress(state, p);
  finish(state, end, len & 63, <u64>len, out);
}
