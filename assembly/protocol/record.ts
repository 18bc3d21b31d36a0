// Reading the length-prefixed fields of an event record (assembly/README.md):
// every read is checked against the record's end, so a malformed record from
// the host, or from another node, fails cleanly instead of reading past it.

/** A cursor over one record's fields; reuse it, it does not allocate. */
export class Fields {
  private p: usize = 0;
  private end: usize = 0;
  /** Where the last field read starts, and its length. */
  start: usize = 0;
  len: usize = 0;

  /** Starts reading the `len` bytes at `ptr`. */
  begin(ptr: usize, len: usize): Fields {
    this.p = ptr;
    this.end = ptr + len;
    return this;
  }

  /** Reads a field of `u16 len, bytes`; false if it runs past the end. */
  str16(): bool {
    if (this.p + 2 > this.end) return false;
    return this.take(this.p + 2, <usize>load<u16>(this.p));
  }

  /** Reads a field of `u32 len, bytes`; false if it runs past the end. */
  str32(): bool {
    if (this.p + 4 > this.end) return false;
    return this.take(this.p + 4, <usize>load<u32>(this.p));
  }

  /** Reads `n` bytes; false if they run past the end. */
  bytes(n: usize): bool {
    return this.take(this.p, n);
  }

  /** The bytes not read yet. */
  @inline get remaining(): usize {
    return this.end - this.p;
  }

  /** Reads the rest of the record, possibly empty. */
  rest(): void {
    this.start = this.p;
    this.len = this.end - this.p;
    this.p = this.end;
  }

  private take(start: usize, n: usize): bool {
    if (n > this.end - start) return false;
    this.start = start;
    this.len = n;
    this.p = start + n;
    return true;
  }
}

/**
 * The cursor over the record being handled: the record handlers engine.ts
 * calls begin it, and what they call gets it as an argument; records are read
 * one at a time.
 */
export const fields = new Fields();
