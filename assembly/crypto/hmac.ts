// HMAC-SHA256 (RFC 2104). An app secret is fixed, so `HmacKey` hashes the
// padded key blocks once and each signature starts from the cached midstates:
// two compressions fewer per message.

import { Sha256, IV, compress, sha256 } from "./sha256";
import { hexEncode } from "./hex";

// The key padded to one block while the midstates are computed.
// @ts-ignore: decorator
@lazy const KEY_BLOCK = memory.data(64);

/** The SHA-256 midstates after (key ^ ipad) and (key ^ opad). */
export class HmacKey {
  inner: StaticArray<u32> = new StaticArray<u32>(8);
  outer: StaticArray<u32> = new StaticArray<u32>(8);

  constructor(keyPtr: usize, keyLen: usize) {
    const block = KEY_BLOCK;
    memory.fill(block, 0, 64);
    if (keyLen > 64) {
      // A key longer than a block is replaced by its digest (RFC 2104 §2).
      sha256(keyPtr, keyLen, block);
    } else {
      memory.copy(block, keyPtr, keyLen);
    }
    const inner = changetype<usize>(this.inner);
    const outer = changetype<usize>(this.outer);
    for (let i: usize = 0; i < 64; i += 4) {
      store<u32>(block + i, load<u32>(block + i) ^ 0x36363636);
    }
    memory.copy(inner, IV, 32);
    compress(inner, block);
    // 0x36 ^ 0x5c turns the ipad block into the opad block.
    for (let i: usize = 0; i < 64; i += 4) {
      store<u32>(block + i, load<u32>(block + i) ^ 0x6a6a6a6a);
    }
    memory.copy(outer, IV, 32);
    compress(outer, block);
  }
}

/** Incremental HMAC-SHA256 over message pieces that need not be contiguous. */
export class HmacSha256 {
  private sha: Sha256 = new Sha256();
  private outer: StaticArray<u32> = new StaticArray<u32>(8);

  begin(key: HmacKey): void {
    this.sha.restore(changetype<usize>(key.inner), 64);
    memory.copy(changetype<usize>(this.outer), changetype<usize>(key.outer), 32);
  }

  update(ptr: usize, len: usize): void {
    this.sha.update(ptr, len);
  }

  /** Writes the 32-byte MAC to `out`. Call `begin` again before reuse. */
  final(out: usize): void {
    const sha = this.sha;
    sha.final(out);
    sha.restore(changetype<usize>(this.outer), 64);
    sha.update(out, 32);
    sha.final(out);
  }
}

// @ts-ignore: decorator
@lazy const MAC = new HmacSha256();

/** Writes the MAC of `len` bytes at `ptr` to `out` as 64 lowercase hex digits. */
export function hmacSha256Hex(key: HmacKey, ptr: usize, len: usize, out: usize): void {
  const mac = MAC;
  mac.begin(key);
  mac.update(ptr, len);
  mac.final(out);
  hexEncode(out, 32, out);
}
