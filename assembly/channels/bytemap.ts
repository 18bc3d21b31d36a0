// A hash map keyed by byte strings (channel names, user ids). Lookups take a
// pointer and a length straight from the message being handled, so the hot
// path neither decodes UTF-8 into an AssemblyScript string nor allocates.
// Open addressing with linear probing and backward-shift deletion.

// @ts-ignore: decorator
@inline const EMPTY: u32 = 0;
// @ts-ignore: decorator
@inline const MIN_CAPACITY: u32 = 16;

/** FNV-1a over `len` bytes at `ptr`, never 0 (0 marks an empty slot). */
export function hashBytes(ptr: usize, len: usize): u32 {
  let h: u32 = 2166136261;
  for (let i: usize = 0; i < len; i++) {
    h = (h ^ <u32>load<u8>(ptr + i)) * 16777619;
  }
  return h | 1;
}

/** Compares `len` bytes at `ptr` with the bytes of `key`. */
// @ts-ignore: decorator
@inline export function bytesEqual(key: ArrayBuffer, ptr: usize, len: usize): bool {
  return <usize>key.byteLength == len && spansEqual(changetype<usize>(key), ptr, len);
}

/**
 * Whether the `len` bytes at `a` and at `b` are equal: eight at a time, the
 * last word overlapping the previous one, never reading outside the spans.
 */
export function spansEqual(a: usize, b: usize, len: usize): bool {
  if (len >= 8) {
    for (let i: usize = 0; i + 8 < len; i += 8) {
      if (load<u64>(a + i) != load<u64>(b + i)) return false;
    }
    return load<u64>(a + len - 8) == load<u64>(b + len - 8);
  }
  if (len >= 4) return load<u32>(a) == load<u32>(b) && load<u32>(a + len - 4) == load<u32>(b + len - 4);
  for (let i: usize = 0; i < len; i++) {
    if (load<u8>(a + i) != load<u8>(b + i)) return false;
  }
  return true;
}

/** Copies `len` bytes at `ptr` into a new ArrayBuffer. */
export function copyBytes(ptr: usize, len: usize): ArrayBuffer {
  const b = new ArrayBuffer(<i32>len);
  memory.copy(changetype<usize>(b), ptr, len);
  return b;
}

export class ByteMap<V> {
  private hashes: StaticArray<u32> = new StaticArray<u32>(MIN_CAPACITY);
  private keys: StaticArray<ArrayBuffer | null> = new StaticArray<ArrayBuffer | null>(MIN_CAPACITY);
  private vals: StaticArray<V | null> = new StaticArray<V | null>(MIN_CAPACITY);
  private mask: u32 = MIN_CAPACITY - 1;
  size: i32 = 0;

  private slot(ptr: usize, len: usize, h: u32): u32 {
    let i = h & this.mask;
    while (true) {
      const sh = unchecked(this.hashes[i]);
      if (sh == EMPTY) return i;
      if (sh == h && bytesEqual(changetype<ArrayBuffer>(unchecked(this.keys[i])), ptr, len)) return i;
      i = (i + 1) & this.mask;
    }
  }

  /** Returns the value stored under the bytes at `ptr`, or null. */
  get(ptr: usize, len: usize): V | null {
    const i = this.slot(ptr, len, hashBytes(ptr, len));
    return unchecked(this.hashes[i]) == EMPTY ? null : unchecked(this.vals[i]);
  }

  /** Stores `value` under a copy of the bytes at `ptr`; returns the stored key. */
  set(ptr: usize, len: usize, value: V): ArrayBuffer {
    return this.store(ptr, len, null, value);
  }

  /** Stores `value` under `key` itself, which must never change, without a copy. */
  put(key: ArrayBuffer, value: V): void {
    this.store(changetype<usize>(key), <usize>key.byteLength, key, value);
  }

  private store(ptr: usize, len: usize, key: ArrayBuffer | null, value: V): ArrayBuffer {
    if (<u32>(this.size + 1) * 4 > (this.mask + 1) * 3) this.rehash((this.mask + 1) << 1);
    const h = hashBytes(ptr, len);
    const i = this.slot(ptr, len, h);
    if (unchecked(this.hashes[i]) == EMPTY) {
      unchecked((this.hashes[i] = h));
      unchecked((this.keys[i] = key ? key : copyBytes(ptr, len)));
      this.size++;
    }
    unchecked((this.vals[i] = value));
    return changetype<ArrayBuffer>(unchecked(this.keys[i]));
  }

  /** Removes the entry for the bytes at `ptr`; returns whether it existed. */
  delete(ptr: usize, len: usize): bool {
    let i = this.slot(ptr, len, hashBytes(ptr, len));
    if (unchecked(this.hashes[i]) == EMPTY) return false;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    let j = i;
    while (true) {
      j = (j + 1) & this.mask;
      const hj = unchecked(this.hashes[j]);
      if (hj == EMPTY) break;
      const home = hj & this.mask;
      const between = i <= j ? (home > i && home <= j) : (home > i || home <= j);
      if (between) continue;
      unchecked((this.hashes[i] = hj));
      unchecked((this.keys[i] = unchecked(this.keys[j])));
      unchecked((this.vals[i] = unchecked(this.vals[j])));
      i = j;
    }
    unchecked((this.hashes[i] = EMPTY));
    unchecked((this.keys[i] = null));
    unchecked((this.vals[i] = null));
    this.size--;
    return true;
  }

  /**
   * Shrinks the table when it is under an eighth full, so that a map emptied
   * after a peak (100,000 channels come and gone) returns its memory and
   * iterates its few entries fast. Never call it while iterating the map.
   */
  compact(): void {
    const cap = this.mask + 1;
    if (cap <= MIN_CAPACITY || <u32>this.size * 8 >= cap) return;
    let fit = MIN_CAPACITY;
    while (fit < <u32>this.size * 4) fit <<= 1;
    this.rehash(fit);
  }

  /** Number of slots; iterate with `keyAt`/`valueAt`, skipping nulls. */
  get capacity(): i32 {
    return <i32>this.mask + 1;
  }

  @inline keyAt(i: i32): ArrayBuffer | null {
    return unchecked(this.keys[i]);
  }

  @inline valueAt(i: i32): V | null {
    return unchecked(this.vals[i]);
  }

  private rehash(cap: u32): void {
    const hashes = this.hashes;
    const keys = this.keys;
    const vals = this.vals;
    this.hashes = new StaticArray<u32>(<i32>cap);
    this.keys = new StaticArray<ArrayBuffer | null>(<i32>cap);
    this.vals = new StaticArray<V | null>(<i32>cap);
    this.mask = cap - 1;
    for (let k = 0, n = hashes.length; k < n; k++) {
      const h = unchecked(hashes[k]);
      if (h == EMPTY) continue;
      let i = h & this.mask;
      while (unchecked(this.hashes[i]) != EMPTY) i = (i + 1) & this.mask;
      unchecked((this.hashes[i] = h));
      unchecked((this.keys[i] = unchecked(keys[k])));
      unchecked((this.vals[i] = unchecked(vals[k])));
    }
  }
}
