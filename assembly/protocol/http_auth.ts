// Authentication of an HTTP API request: the Pusher signature over method,
// path and sorted query, the timestamp window and the body's MD5.

import { equalConstantTime } from "../crypto/compare";
import { hexEncode } from "../crypto/hex";
import { md5 } from "../crypto/md5";
import { App } from "./app";
import { signatureMatches, signBegin, signBytes } from "./auth";
import { Query } from "./query";

// @ts-ignore: decorator
@inline const TIMESTAMP_WINDOW_S: i64 = 600;

const bodyMd5 = memory.data(16);
const bodyMd5Hex = memory.data(32);
const NEWLINE = memory.data<u8>([0x0a]);
const AMP = memory.data<u8>([0x26]);
const EQ = memory.data<u8>([0x3d]);

/**
 * Checks `auth_key`, `auth_timestamp` (±600 s), `body_md5` and
 * `auth_signature` = HMAC-SHA256 of `METHOD\nPATH\nsorted query`.
 * Returns null when the request is authentic, else why not.
 */
export function authenticate(
  app: App, query: Query, method: usize, methodLen: usize, path: usize, pathLen: usize,
  bodyPtr: usize, bodyLen: usize, now: u64,
): string | null {
  const key = query.find("auth_key");
  const sig = query.find("auth_signature");
  const ts = query.find("auth_timestamp");
  if (key < 0 || sig < 0 || ts < 0) return "Missing auth_key, auth_timestamp or auth_signature";
  const keyLen = query.valueLength(key);
  if (keyLen != <usize>app.key.byteLength || memory.compare(query.valuePtr(key), changetype<usize>(app.key), keyLen) != 0) {
    return "Unknown auth_key";
  }
  const seconds = parseDecimal(query.valuePtr(ts), query.valueLength(ts));
  const skew = seconds - <i64>(now / 1000);
  if (seconds < 0 || skew > TIMESTAMP_WINDOW_S || skew < -TIMESTAMP_WINDOW_S) {
    return "Timestamp expired: auth_timestamp must be within 600 seconds of the server time";
  }
  if (bodyLen > 0) {
    const m = query.find("body_md5");
    if (m < 0) return "Missing body_md5";
    md5(bodyPtr, bodyLen, bodyMd5);
    hexEncode(bodyMd5, 16, bodyMd5Hex);
    if (query.valueLength(m) != 32 || !equalConstantTime(query.valuePtr(m), bodyMd5Hex, 32)) {
      return "body_md5 does not match the body";
    }
  }
  signBegin(app);
  signBytes(method, methodLen);
  signBytes(NEWLINE, 1);
  signBytes(path, pathLen);
  signBytes(NEWLINE, 1);
  let first = true;
  for (let k = 0; k < query.count; k++) {
    const i = query.sorted(k);
    if (i == sig) continue;
    if (!first) signBytes(AMP, 1);
    first = false;
    signBytes(query.keyPtr(i), query.keyLength(i));
    signBytes(EQ, 1);
    signBytes(query.valuePtr(i), query.valueLength(i));
  }
  if (!signatureMatches(query.valuePtr(sig), query.valueLength(sig))) return "Authentication signature invalid";
  return null;
}

function parseDecimal(ptr: usize, len: usize): i64 {
  if (len == 0 || len > 18) return -1;
  let v: i64 = 0;
  for (let i: usize = 0; i < len; i++) {
    const d = <u32>load<u8>(ptr + i) - 48;
    if (d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}
