export { Sha256, sha256 } from "./sha256";
export { HmacKey, HmacSha256, hmacSha256Hex } from "./hmac";
export { md5 } from "./md5";
export { hexEncode } from "./hex";
export { equalConstantTime } from "./compare";
