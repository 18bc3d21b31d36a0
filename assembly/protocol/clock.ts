// Time from the host's wall clock, which can step backwards (NTP, a VM
// resumed): elapsed time never wraps around into a huge value.

/** Milliseconds from `then` to `now`, or 0 when the clock went back. */
// @ts-ignore: decorator
@inline export function since(now: u64, then: u64): u64 {
  return now > then ? now - then : 0;
}
