// A stand-in engine for the bridge tests, compiled to fake.wasm (see
// engine_test.go for the command). It answers every batch with one SEND record
// addressed to the call count whose payload is the batch itself, and it traps
// on request so the tests can check that a trap leaves the instance usable:
//   first record kind 0xFF: `unreachable`
//   first record kind 0xFE: a throw, which calls the imported `env.abort`
//   first record kind 0xFD: a loop that never ends, for the call deadline

let input: usize = 0;
let inputCap: u32 = 0;
let out: usize = 0;
let outCap: u32 = 0;
let calls: u32 = 0;
let kept: Uint8Array | null = null;

export function init(seedLo: u32, seedHi: u32): void {
  calls = 0;
}

export function reserve(n: u32): usize {
  if (n > inputCap) {
    if (input != 0) heap.free(input);
    input = heap.alloc(<usize>n);
    inputCap = n;
  }
  return input;
}

export function process(n: u32): u32 {
  calls++;
  if (n > 8) {
    const kind = load<u8>(input + 8);
    if (kind == 0xff) unreachable();
    if (kind == 0xfe) throw new Error("requested abort");
    if (kind == 0xfd) while (load<u8>(input + 8) == 0xfd) calls++;
  }
  // Managed garbage, so that __collect has something to do.
  kept = new Uint8Array(<i32>n);
  const need: u32 = 9 + n;
  if (need > outCap) {
    if (out != 0) heap.free(out);
    out = heap.alloc(<usize>need);
    outCap = need;
  }
  store<u8>(out, 1);
  store<u32>(out + 1, calls);
  store<u32>(out + 5, n);
  memory.copy(out + 9, input, <usize>n);
  return need;
}

export function output(): usize {
  return out;
}
