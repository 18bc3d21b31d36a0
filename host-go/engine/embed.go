package engine

import _ "embed"

// Wasm is the protocol engine, built from assembly/ by
// `npx asc --config asconfig.json --target release` at the repository root.
//
//go:embed engine.wasm
var Wasm []byte
