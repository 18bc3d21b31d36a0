// The digest of one node's share of an app's cluster state: its subscription
// count on each channel, its presence members and its signed-in users, as the
// other nodes hold them from its relay records. Each element hashes to 64 bits
// and is XORed into the bucket of its channel, so adding and removing an
// element are one XOR each and a digest costs 64 words, whatever the number
// of channels.
// Two nodes holding the same elements have the same buckets; a bucket that
// differs names the channels to resync (protocol/entropy.ts).

/** Buckets per digest: one bit each in a u64 request mask. */
// @ts-ignore: decorator
@inline export const DIGEST_BUCKETS: i32 = 64;

/** 64-bit FNV-1a over `len` bytes at `ptr`, finished with a mix so that every bit depends on every byte. */
export function hash64(ptr: usize, len: usize): u64 {
  let h: u64 = 0xcbf29ce484222325;
  for (let i: usize = 0; i < len; i++) {
    h = (h ^ <u64>load<u8>(ptr + i)) * 0x100000001b3;
  }
  return mix64(h);
}

/** The splitmix64 finaliser. */
export function mix64(x: u64): u64 {
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9;
  x = (x ^ (x >> 27)) * 0x94d049bb133111eb;
  return x ^ (x >> 31);
}

/** The bucket of a channel whose name hashes to `nameHash`. */
// @ts-ignore: decorator
@inline export function bucketOf(nameHash: u64): i32 {
  return <i32>(nameHash >> 58);
}

/** The element "`count` subscriptions to the channel `nameHash`" (count > 0). */
export function countElement(nameHash: u64, count: u32): u64 {
  return mix64(nameHash ^ (<u64>count * 0x9e3779b97f4a7c15));
}

/** The element "user `key` is present on the channel `nameHash`". */
export function memberElement(nameHash: u64, key: ArrayBuffer): u64 {
  return mix64(nameHash + rotl<u64>(hash64(changetype<usize>(key), key.byteLength), 23));
}

/**
 * The name signed-in users are digested under, as if they were the members
 * of one channel: no channel has it (a channel name has no `!`). Its bucket
 * holds them, beside the channels whose names hash there.
 */
export const USERS_ENTRY: ArrayBuffer = String.UTF8.encode("!users");
export const USERS_HASH: u64 = hash64(changetype<usize>(USERS_ENTRY), USERS_ENTRY.byteLength);

/** The element "user `id` is signed in". */
export function userElement(id: ArrayBuffer): u64 {
  return memberElement(USERS_HASH, id);
}

export class Digest {
  buckets: StaticArray<u64> = new StaticArray<u64>(DIGEST_BUCKETS);

  /** Adds the element `e` of the channel `nameHash`, or removes it if present. */
  @inline toggle(nameHash: u64, e: u64): void {
    const b = bucketOf(nameHash);
    unchecked((this.buckets[b] ^= e));
  }

  /** The count on channel `nameHash` went from `before` to `after`. */
  count(nameHash: u64, before: u32, after: u32): void {
    if (before == after) return;
    if (before > 0) this.toggle(nameHash, countElement(nameHash, before));
    if (after > 0) this.toggle(nameHash, countElement(nameHash, after));
  }

  /** Bucket `b`, 0 to DIGEST_BUCKETS-1. */
  @inline bucket(b: i32): u64 {
    return unchecked(this.buckets[b]);
  }
}

/** The hash of a channel's name, which picks its bucket. */
export function channelHash(name: ArrayBuffer): u64 {
  return hash64(changetype<usize>(name), name.byteLength);
}
