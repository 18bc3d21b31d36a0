// Comparison whose time does not depend on where inputs differ, for checking
// signatures without leaking how many leading bytes an attacker got right.

/** Whether the `len` bytes at `a` and `b` are equal; reads every byte. */
export function equalConstantTime(a: usize, b: usize, len: usize): bool {
  let diff: u32 = 0;
  for (let i: usize = 0; i < len; i++) {
    diff |= <u32>(load<u8>(a + i) ^ load<u8>(b + i));
  }
  return diff == 0;
}
