// Package engine runs the Pusher protocol engine, an AssemblyScript module
// compiled to WebAssembly, with wazero.
//
// The engine is a deterministic state machine: the host hands it a batch of
// events (see Batch) and reads back a batch of actions (see Actions), one
// call per batch. assembly/README.md documents the ABI.
//
// The embedded module is compiled once per process and shared; each Engine is
// one instance of it with its own memory and state.
package engine

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/bits"
	"sync"
	"time"
	"unicode/utf16"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/api"
	"github.com/tetratelabs/wazero/experimental"
)

// Names of the engine's exports (assembly/README.md).
const (
	exportInit    = "init"
	exportReserve = "reserve"
	exportProcess = "process"
	exportOutput  = "output"
	exportCollect = "__collect"
	// exportSubscriptions is a global, read without a call.
	exportSubscriptions = "subscriptionsActive"
)

const (
	// minReserve is the smallest input area asked of the engine.
	minReserve = 64 << 10
	// collectEvery is how long the engine's garbage may wait for a
	// collection when its memory does not grow. A collection walks the whole
	// live heap (about 1–2 ms per 10,000 connections), so it must stay rare.
	collectEvery = time.Minute
)

// ErrMissingExport is returned when the module lacks one of the exports the
// ABI requires (init, reserve, process, output).
var ErrMissingExport = errors.New("engine: module lacks a required export")

// ErrClosed is returned by Process after Close.
var ErrClosed = errors.New("engine: closed")

// ErrDeadline is returned by a call interrupted because it overran the
// timeout set with SetTimeout; the instance is closed.
var ErrDeadline = errors.New("engine: call overran its deadline")

// AbortError is the trap raised when the engine calls an imported `abort`
// (an AssemblyScript `throw` or failed assertion). The call that raised it
// fails; the instance stays usable.
type AbortError struct {
	Message, File string
	Line, Column  uint32
}

func (e *AbortError) Error() string {
	return fmt.Sprintf("engine: abort: %s at %s:%d:%d", e.Message, e.File, e.Line, e.Column)
}

// Engine is one instance of the protocol engine.
//
// # Notes
//
//   - An Engine is not safe for concurrent use: one goroutine owns it.
//   - Garbage collection (runtime `minimal`) is run by the host between calls:
//     at the start of a Process call, when the engine's memory grew during the
//     previous one, after a trap, or once a minute. Memory growth is the
//     signal that garbage has filled the free space (AssemblyScript's
//     allocator grows memory by doubling), so memory stays within about twice
//     the live heap while a steady state collects rarely: a collection costs
//     time in proportion to the live heap, not to the garbage.
type Engine struct {
	ctx     context.Context
	mod     api.Module
	mem     api.Memory
	reserve api.Function
	process api.Function
	output  api.Function
	collect api.Function
	subs    api.Global     // subscriptionsActive, or nil in engines without it
	rt      wazero.Runtime // owned by this instance (NewInstrumented), or nil
	stack   []uint64

	// The call deadline: interrupt and countdown are instrument's globals,
	// set by fire.
	timeout   time.Duration
	interrupt api.MutableGlobal
	countdown api.MutableGlobal
	deadline  struct {
		mu     sync.Mutex
		timer  *time.Timer
		inCall bool
		fired  bool
	}

	inPtr, inCap uint32

	lastGC      time.Time
	memAtGC     uint32
	collectNext bool
	closed      bool
}

// program is a compiled module and the runtime holding it.
type program struct {
	rt       wazero.Runtime
	compiled wazero.CompiledModule
}

var embedded struct {
	once sync.Once
	p    *program
	err  error
}

// New instantiates the embedded engine and seeds it from crypto/rand. The
// module is compiled on the first call and shared by every Engine.
func New() (*Engine, error) {
	embedded.once.Do(func() {
		embedded.p, embedded.err = compile(context.Background(), Wasm)
	})
	if embedded.err != nil {
		return nil, embedded.err
	}
	return embedded.p.instantiate()
}

// NewInstrumented instantiates the embedded engine compiled with the wazero
// function listeners of factory (tracing, profiling, fault injection). Unlike
// New, it compiles the module again, for this instance only.
func NewInstrumented(factory experimental.FunctionListenerFactory) (*Engine, error) {
	ctx := experimental.WithFunctionListenerFactory(context.Background(), factory)
	p, err := compile(ctx, Wasm)
	if err != nil {
		return nil, err
	}
	e, err := p.instantiate()
	if err != nil {
		_ = p.rt.Close(ctx)
		return nil, err
	}
	e.rt = p.rt
	return e, nil
}

// compile compiles wasm, with the loop checks that let a call's deadline
// interrupt it (see instrument), in a new runtime and satisfies its imports.
func compile(ctx context.Context, wasm []byte) (*program, error) {
	wasm, err := instrument(wasm)
	if err != nil {
		return nil, fmt.Errorf("compiling engine: %w", err)
	}
	// The default config uses the compiler where wazero supports it
	// (amd64, arm64) and the interpreter elsewhere.
	rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig())
	compiled, err := rt.CompileModule(ctx, wasm)
	if err != nil {
		_ = rt.Close(ctx)
		return nil, fmt.Errorf("compiling engine: %w", err)
	}
	exports := compiled.ExportedFunctions()
	for _, name := range []string{exportInit, exportReserve, exportProcess, exportOutput} {
		if _, ok := exports[name]; !ok {
			_ = rt.Close(ctx)
			return nil, fmt.Errorf("%w: %q", ErrMissingExport, name)
		}
	}
	if err := instantiateImports(ctx, rt, compiled); err != nil {
		_ = rt.Close(ctx)
		return nil, err
	}
	return &program{rt: rt, compiled: compiled}, nil
}

// instantiateImports provides every function the module imports: `abort`
// traps without closing the module (unlike wazero's stock AssemblyScript
// abort), `seed` returns a random number, `trace` does nothing, and any other
// import traps when called.
func instantiateImports(ctx context.Context, rt wazero.Runtime, compiled wazero.CompiledModule) error {
	builders := map[string]wazero.HostModuleBuilder{}
	var order []string
	for _, def := range compiled.ImportedFunctions() {
		modName, name, _ := def.Import()
		b, ok := builders[modName]
		if !ok {
			b = rt.NewHostModuleBuilder(modName)
			builders[modName] = b
			order = append(order, modName)
		}
		b.NewFunctionBuilder().
			WithGoModuleFunction(hostFunction(modName, name, def), def.ParamTypes(), def.ResultTypes()).
			Export(name)
	}
	for _, modName := range order {
		if _, err := builders[modName].Instantiate(ctx); err != nil {
			return fmt.Errorf("instantiating engine imports %q: %w", modName, err)
		}
	}
	return nil
}

// hostFunction returns the implementation of the import modName.name.
func hostFunction(modName, name string, def api.FunctionDefinition) api.GoModuleFunction {
	params, results := def.ParamTypes(), def.ResultTypes()
	switch {
	case modName == "env" && name == "abort" && len(params) == 4 && len(results) == 0:
		return api.GoModuleFunc(func(_ context.Context, m api.Module, stack []uint64) {
			msg, _ := readString(m.Memory(), api.DecodeU32(stack[0]))
			file, _ := readString(m.Memory(), api.DecodeU32(stack[1]))
			panic(&AbortError{Message: msg, File: file, Line: api.DecodeU32(stack[2]), Column: api.DecodeU32(stack[3])})
		})
	case modName == "env" && name == "seed" && len(params) == 0 && len(results) == 1 && results[0] == api.ValueTypeF64:
		return api.GoModuleFunc(func(_ context.Context, _ api.Module, stack []uint64) {
			stack[0] = api.EncodeF64(float64(randomUint64()>>11) / (1 << 53))
		})
	case modName == "env" && name == "trace" && len(results) == 0:
		return api.GoModuleFunc(func(context.Context, api.Module, []uint64) {})
	default:
		err := fmt.Errorf("engine: unsupported import %s.%s called", modName, name)
		return api.GoModuleFunc(func(context.Context, api.Module, []uint64) { panic(err) })
	}
}

// instantiate creates and seeds a new engine instance.
func (p *program) instantiate() (*Engine, error) {
	ctx := context.Background()
	mod, err := p.rt.InstantiateModule(ctx, p.compiled,
		wazero.NewModuleConfig().WithName("").WithStartFunctions())
	if err != nil {
		return nil, fmt.Errorf("instantiating engine: %w", err)
	}
	e := &Engine{
		ctx:     ctx,
		mod:     mod,
		mem:     mod.Memory(),
		reserve: mod.ExportedFunction(exportReserve),
		process: mod.ExportedFunction(exportProcess),
		output:  mod.ExportedFunction(exportOutput),
		collect: mod.ExportedFunction(exportCollect),
		subs:    mod.ExportedGlobal(exportSubscriptions),
		stack:   make([]uint64, 2),
		lastGC:  time.Now(),
	}
	if e.mem == nil {
		_ = mod.Close(ctx)
		return nil, fmt.Errorf("%w: memory", ErrMissingExport)
	}
	e.interrupt, _ = mod.ExportedGlobal(interruptExport).(api.MutableGlobal)
	e.countdown, _ = mod.ExportedGlobal(countdownExport).(api.MutableGlobal)
	if e.countdown == nil {
		e.interrupt = nil // no deadline without both
	}
	seed := randomUint64()
	e.stack[0] = api.EncodeU32(uint32(seed))
	e.stack[1] = api.EncodeU32(uint32(seed >> 32))
	if err := mod.ExportedFunction(exportInit).CallWithStack(ctx, e.stack); err != nil {
		_ = mod.Close(ctx)
		return nil, fmt.Errorf("initializing engine: %w", err)
	}
	e.memAtGC = e.mem.Size()
	return e, nil
}

// SetTimeout bounds each later Process or Collect call to d (0: no bound).
// A call that overruns it is interrupted at its next loop iteration (should
// a race delay that, within checkEvery iterations) and fails with
// ErrDeadline, and the instance is closed: its state may be half updated.
func (e *Engine) SetTimeout(d time.Duration) { e.timeout = d }

// Process hands one event batch to the engine and returns its action batch.
//
// The returned slice is a view of the engine's memory, valid until the next
// call of any Engine method; copy what must outlive it. On error (a trap)
// the batch is lost; after ErrDeadline the instance is closed, after another
// trap it stays usable but its state may be half updated by the batch.
func (e *Engine) Process(batch []byte) ([]byte, error) {
	if e.closed {
		return nil, ErrClosed
	}
	if uint64(len(batch)) > math.MaxUint32 {
		return nil, fmt.Errorf("engine: batch of %d bytes: %w", len(batch), ErrFieldTooLong)
	}
	e.arm()
	out, err := e.processWithin(batch)
	if err = e.disarm(err); err != nil {
		return nil, err
	}
	return out, nil
}

// arm starts the deadline of one call.
func (e *Engine) arm() {
	if e.timeout <= 0 || e.interrupt == nil {
		return
	}
	d := &e.deadline
	d.mu.Lock()
	d.inCall, d.fired = true, false
	d.mu.Unlock()
	if d.timer == nil {
		d.timer = time.AfterFunc(e.timeout, e.fire)
	} else {
		d.timer.Reset(e.timeout)
	}
}

// fire runs when a call overran its deadline: its next loop iteration traps.
func (e *Engine) fire() {
	d := &e.deadline
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.inCall {
		d.fired = true
		e.interrupt.Set(1)
		e.countdown.Set(1) // the next loop iteration checks the flag
	}
}

// disarm ends the deadline of the call that returned err, and returns the
// error to report: ErrDeadline, and the instance closed, when the deadline
// interrupted it.
func (e *Engine) disarm(err error) error {
	d := &e.deadline
	if d.timer == nil {
		return err
	}
	d.timer.Stop()
	d.mu.Lock()
	fired := d.fired
	d.inCall, d.fired = false, false
	d.mu.Unlock()
	switch {
	case !fired:
		return err
	case err == nil: // it returned before a loop saw the flag
		e.interrupt.Set(0)
		return nil
	}
	_ = e.Close()
	return fmt.Errorf("%w after %s: %w", ErrDeadline, e.timeout, err)
}

func (e *Engine) processWithin(batch []byte) ([]byte, error) {
	if e.collectNext {
		if err := e.collectWithin(); err != nil {
			return nil, err
		}
	}
	n := uint32(len(batch))
	if n > e.inCap {
		size := reserveSize(n)
		e.stack[0] = api.EncodeU32(size)
		if err := e.reserve.CallWithStack(e.ctx, e.stack); err != nil {
			e.collectNext = true
			return nil, fmt.Errorf("engine: reserve(%d): %w", size, err)
		}
		e.inPtr, e.inCap = api.DecodeU32(e.stack[0]), size
	}
	if !e.mem.Write(e.inPtr, batch) {
		return nil, fmt.Errorf("engine: input area at %d is outside memory of %d bytes", e.inPtr, e.mem.Size())
	}
	e.stack[0] = api.EncodeU32(n)
	if err := e.process.CallWithStack(e.ctx, e.stack); err != nil {
		e.collectNext = true
		return nil, fmt.Errorf("engine: process(%d): %w", n, err)
	}
	outLen := api.DecodeU32(e.stack[0])
	e.collectNext = e.collect != nil && (e.mem.Size() > e.memAtGC || time.Since(e.lastGC) >= collectEvery)
	if outLen == 0 {
		return nil, nil
	}
	if err := e.output.CallWithStack(e.ctx, e.stack); err != nil {
		e.collectNext = true
		return nil, fmt.Errorf("engine: output(): %w", err)
	}
	ptr := api.DecodeU32(e.stack[0])
	out, ok := e.mem.Read(ptr, outLen)
	if !ok {
		return nil, fmt.Errorf("engine: output of %d bytes at %d is outside memory of %d bytes", outLen, ptr, e.mem.Size())
	}
	return out, nil
}

// Collect runs the engine's garbage collector now. Process calls it on its
// own schedule; the host may also call it when idle.
func (e *Engine) Collect() error {
	if e.closed {
		return ErrClosed
	}
	e.arm()
	return e.disarm(e.collectWithin())
}

func (e *Engine) collectWithin() error {
	e.collectNext = false
	if e.collect == nil {
		return nil
	}
	if err := e.collect.CallWithStack(e.ctx, e.stack); err != nil {
		return fmt.Errorf("engine: __collect(): %w", err)
	}
	e.memAtGC = e.mem.Size()
	e.lastGC = time.Now()
	return nil
}

// Subscriptions returns the number of channel subscriptions the engine
// holds, as of the end of the last Process call (0 when the engine does not
// export the count).
func (e *Engine) Subscriptions() uint32 {
	if e.subs == nil || e.closed {
		return 0
	}
	return api.DecodeU32(e.subs.Get())
}

// MemorySize returns the size of the engine's linear memory in bytes.
func (e *Engine) MemorySize() uint32 { return e.mem.Size() }

// Close releases the instance; the compiled module stays cached.
func (e *Engine) Close() error {
	if e.closed {
		return nil
	}
	e.closed = true
	if e.deadline.timer != nil {
		e.deadline.timer.Stop()
	}
	err := e.mod.Close(e.ctx)
	if e.rt != nil {
		err = errors.Join(err, e.rt.Close(e.ctx))
	}
	if err != nil {
		return fmt.Errorf("closing engine: %w", err)
	}
	return nil
}

// reserveSize rounds n up to a power of two of at least minReserve bytes.
func reserveSize(n uint32) uint32 {
	if n <= minReserve {
		return minReserve
	}
	if n > 1<<31 {
		return n
	}
	return 1 << bits.Len32(n-1)
}

// readString reads an AssemblyScript string: UTF-16LE with its byte length
// in the four bytes before ptr.
func readString(mem api.Memory, ptr uint32) (string, bool) {
	if ptr < 4 {
		return "", false
	}
	n, ok := mem.ReadUint32Le(ptr - 4)
	if !ok || n%2 != 0 {
		return "", false
	}
	b, ok := mem.Read(ptr, n)
	if !ok {
		return "", false
	}
	u := make([]uint16, n/2)
	for i := range u {
		u[i] = binary.LittleEndian.Uint16(b[2*i:])
	}
	return string(utf16.Decode(u)), true
}

func randomUint64() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return binary.LittleEndian.Uint64(b[:])
}
