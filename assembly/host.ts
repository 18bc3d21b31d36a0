// The abort handler the engine is compiled with (`--use abort=...`).
// AssemblyScript's default imports `env.abort`, whose stock wazero
// implementation closes the module and loses every channel. Here an internal
// error becomes a plain trap: the host gets an error from that one call and
// the instance, with its state, stays usable.

export function engineAbort(
  message: string | null,
  fileName: string | null,
  lineNumber: u32,
  columnNumber: u32,
): void {
  unreachable();
}
