// Channel and event names: validation and channel types from prefixes.

import { ChannelType } from "../channels/channel";
import { asciiEquals } from "../json/ascii";

/** Longest channel or event name accepted. */
export const MAX_NAME_LENGTH: usize = 200;

/** Most channels one event may be published to. */
export const MAX_CHANNELS: i32 = 100;

/** Whether the `len` bytes at `ptr` equal the ASCII literal `s`. */
export function spanEquals(ptr: usize, len: usize, s: string): bool {
  return len == <usize>s.length && spanStartsWith(ptr, len, s);
}

/** Whether the `len` bytes at `ptr` start with the ASCII literal `s`. */
export function spanStartsWith(ptr: usize, len: usize, s: string): bool {
  const n = <usize>s.length;
  return len >= n && asciiEquals(ptr, changetype<usize>(s), n);
}

// 1 for the bytes of channel names, [-a-zA-Z0-9_=@,.;], by value below 128:
// one load per byte instead of a chain of range tests.
const NAME_BYTES = memory.data<u8>([
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0, 0,
  1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 1,
  0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0,
]);

// @ts-ignore: decorator
@inline function isNameByte(c: u32): bool {
  return c < 128 && load<u8>(NAME_BYTES + <usize>c) != 0;
}

export const USER_CHANNEL_PREFIX = "#server-to-user-";

/**
 * Whether a channel name matches `^#?[-a-zA-Z0-9_=@,.;]+$` within 200 bytes,
 * with `#` only as the start of a `#server-to-user-` channel.
 */
export function isValidChannelName(ptr: usize, len: usize): bool {
  if (len == 0 || len > MAX_NAME_LENGTH) return false;
  let i: usize = 0;
  if (load<u8>(ptr) == 0x23) {
    if (!spanStartsWith(ptr, len, USER_CHANNEL_PREFIX) || len == <usize>USER_CHANNEL_PREFIX.length) return false;
    i = 1;
  }
  for (; i < len; i++) {
    if (!isNameByte(<u32>load<u8>(ptr + i))) return false;
  }
  return true;
}

export function channelType(ptr: usize, len: usize): ChannelType {
  if (spanStartsWith(ptr, len, "private-encrypted-")) return ChannelType.Encrypted;
  if (spanStartsWith(ptr, len, "private-")) return ChannelType.Private;
  if (spanStartsWith(ptr, len, "presence-")) return ChannelType.Presence;
  if (spanStartsWith(ptr, len, USER_CHANNEL_PREFIX)) return ChannelType.User;
  return ChannelType.Public;
}

/** Cache channels keep their last event for new subscribers. */
export function isCacheChannel(ptr: usize, len: usize): bool {
  return spanStartsWith(ptr, len, "cache-") ||
    spanStartsWith(ptr, len, "private-cache-") ||
    spanStartsWith(ptr, len, "private-encrypted-cache-") ||
    spanStartsWith(ptr, len, "presence-cache-");
}
