// A growable byte buffer in unmanaged memory: the output batch and scratch
// space for JSON are written here with explicit lengths and no per-write
// allocation. It grows by doubling and never shrinks.

import { asciiCopy } from "../json/ascii";

/** The largest buffer the engine will hold: 1 GiB, far above any host input. */
export const MAX_BUFFER_SIZE: u32 = 1 << 30;

/**
 * Copies `n` <= 16 bytes with two overlapping loads and stores of one width:
 * the host runs `memory.copy` as a call out of the compiled code, which
 * costs more than the copy itself for ids and short names.
 */
// @ts-ignore: decorator
@inline function copyShort(dst: usize, src: usize, n: usize): void {
  if (n >= 8) {
    const a = load<u64>(src), b = load<u64>(src + n - 8);
    store<u64>(dst, a);
    store<u64>(dst + n - 8, b);
  } else if (n >= 4) {
    const a = load<u32>(src), b = load<u32>(src + n - 4);
    store<u32>(dst, a);
    store<u32>(dst + n - 4, b);
  } else if (n >= 2) {
    const a = load<u16>(src), b = load<u16>(src + n - 2);
    store<u16>(dst, a);
    store<u16>(dst + n - 2, b);
  } else if (n) {
    store<u8>(dst, load<u8>(src));
  }
}

export class ByteBuffer {
  ptr: usize;
  len: u32 = 0;
  cap: u32;

  constructor(initial: u32 = 4096) {
    this.cap = initial;
    this.ptr = heap.alloc(<usize>initial);
  }

  /** Makes room for `n` more bytes and returns the write position. */
  @inline ensure(n: u32): usize {
    // In u64, so that len + n cannot wrap around to a small number.
    const need = <u64>this.len + <u64>n;
    if (need > <u64>this.cap) this.grow(need);
    return this.ptr + <usize>this.len;
  }

  /**
   * Doubles the capacity until `need` fits. Sizes past MAX_BUFFER_SIZE cannot
   * come from the host, whose inputs are bounded far below it: they abort the
   * call (the host recovers the engine) instead of looping on a capacity that
   * can no longer double.
   */
  grow(need: u64): void {
    if (need > <u64>MAX_BUFFER_SIZE) unreachable();
    let cap = max<u64>(<u64>this.cap << 1, 16);
    while (cap < need) cap <<= 1;
    if (cap > <u64>MAX_BUFFER_SIZE) cap = <u64>MAX_BUFFER_SIZE;
    this.ptr = heap.realloc(this.ptr, <usize>cap);
    this.cap = <u32>cap;
  }

  @inline reset(): void {
    this.len = 0;
  }

  @inline byte(b: u8): void {
    const p = this.ensure(1);
    store<u8>(p, b);
    this.len += 1;
  }

  @inline u16(v: u16): void {
    const p = this.ensure(2);
    store<u16>(p, v);
    this.len += 2;
  }

  @inline u32(v: u32): void {
    const p = this.ensure(4);
    store<u32>(p, v);
    this.len += 4;
  }

  /** Appends `n` bytes from `src`. */
  @inline bytes(src: usize, n: u32): void {
    const p = this.ensure(n);
    if (n <= 16) copyShort(p, src, <usize>n);
    else memory.copy(p, src, <usize>n);
    this.len += n;
  }

  /** Appends a record field: `n` as a u16, then `n` bytes from `src`. */
  @inline field16(src: usize, n: usize): void {
    this.u16(<u16>n);
    this.bytes(src, <u32>n);
  }

  /** Appends an ASCII string literal, one byte per character. */
  ascii(s: string): void {
    const n = <u32>s.length;
    asciiCopy(this.ensure(n), changetype<usize>(s), <usize>n);
    this.len += n;
  }

  /** Appends the decimal form of `v`. */
  decimal(v: u64): void {
    const p = this.ensure(20);
    let digits = 1;
    for (let t = v; t >= 10; t /= 10) digits++;
    let q = v;
    for (let i = digits - 1; i >= 0; i--) {
      store<u8>(p + <usize>i, <u8>(48 + q % 10));
      q /= 10;
    }
    this.len += <u32>digits;
  }
}
