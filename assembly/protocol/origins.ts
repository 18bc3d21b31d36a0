// The allowed-origins check of a new connection, as Reverb's `allowed_origins`:
// the host of the Origin header must match one of the app's patterns, where
// `*` matches any run of characters and letters match in any case.

/** Whether the Origin header at `origin` (possibly empty) passes `patterns`; no patterns pass everything. */
export function originAllowed(patterns: Array<ArrayBuffer>, origin: usize, originLen: usize): bool {
  const n = patterns.length;
  if (n == 0) return true;
  // scheme://host[:port][/...] → host
  let start: usize = 0;
  for (let i: usize = 0; i + 2 < originLen; i++) {
    if (load<u8>(origin + i) == 0x3a && load<u8>(origin + i + 1) == 0x2f && load<u8>(origin + i + 2) == 0x2f) {
      start = i + 3;
      break;
    }
  }
  let end = start;
  while (end < originLen && load<u8>(origin + end) != 0x3a && load<u8>(origin + end) != 0x2f) end++;
  for (let i = 0; i < n; i++) {
    const p = unchecked(patterns[i]);
    if (globMatch(changetype<usize>(p), <usize>p.byteLength, origin + start, end - start)) return true;
  }
  return false;
}

/** Matches `s` against `pattern` with `*` wildcards, ASCII letters in any case. */
function globMatch(pattern: usize, patternLen: usize, s: usize, sLen: usize): bool {
  let p: usize = 0;
  let i: usize = 0;
  let star: isize = -1; // position after the last `*` seen in the pattern
  let mark: usize = 0; // where in `s` that `*` started matching
  while (i < sLen) {
    if (p < patternLen && load<u8>(pattern + p) == 0x2a) {
      star = <isize>(++p);
      mark = i;
    } else if (p < patternLen && lower(load<u8>(pattern + p)) == lower(load<u8>(s + i))) {
      p++;
      i++;
    } else if (star >= 0) {
      p = <usize>star;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < patternLen && load<u8>(pattern + p) == 0x2a) p++;
  return p == patternLen;
}

// @ts-ignore: decorator
@inline function lower(c: u8): u8 {
  return <u32>c - 65 < 26 ? c | 0x20 : c;
}
