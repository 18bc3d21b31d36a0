// Signatures of channel subscriptions and user sign-in:
// `auth` = `<key>:<hex hmac_sha256(secret, string_to_sign)>`, compared in constant time.

import { equalConstantTime } from "../crypto/compare";
import { hexEncode } from "../crypto/hex";
import { HmacSha256 } from "../crypto/hmac";
import { App } from "./app";

const mac = new HmacSha256();
const digest = memory.data(32);
const digestHex = memory.data(64);
const COLON = memory.data<u8>([0x3a]);
const USER_SEPARATOR = memory.data<u8>([0x3a, 0x3a, 0x75, 0x73, 0x65, 0x72, 0x3a, 0x3a]); // "::user::"

/** Starts a string to sign with the app's secret. */
export function signBegin(app: App): void {
  mac.begin(app.hmac);
}

export function signBytes(ptr: usize, len: usize): void {
  mac.update(ptr, len);
}

export function signColon(): void {
  mac.update(COLON, 1);
}

export function signUserSeparator(): void {
  mac.update(USER_SEPARATOR, 8);
}

/** Finishes the string to sign and checks `auth` (`key:hexsig`) against it. */
export function signMatches(app: App, auth: usize, authLen: usize): bool {
  mac.final(digest);
  hexEncode(digest, 32, digestHex);
  const keyLen = <usize>app.key.byteLength;
  if (authLen != keyLen + 1 + 64) return false;
  const keyOk = memory.compare(auth, changetype<usize>(app.key), keyLen) == 0 && load<u8>(auth + keyLen) == 0x3a;
  return equalConstantTime(auth + keyLen + 1, digestHex, 64) && keyOk;
}

/** Checks a hex signature (64 bytes) against the string signed so far. */
export function signatureMatches(sig: usize, sigLen: usize): bool {
  mac.final(digest);
  hexEncode(digest, 32, digestHex);
  return sigLen == 64 && equalConstantTime(sig, digestHex, 64);
}
