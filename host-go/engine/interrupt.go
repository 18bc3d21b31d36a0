package engine

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// interruptExport names the mutable i32 global that instrument adds: while
// it is non-zero, the next loop iteration that checks it traps.
const interruptExport = "pogo_interrupt"

// countdownExport names instrument's second global: the loop iterations left
// before the next check of the flag. The host sets it to 1 with the flag, so
// that the very next loop iteration checks.
const countdownExport = "pogo_interrupt_countdown"

// checkEvery is the countdown's period, in loop iterations.
const checkEvery = 1 << 16

// errWasm is returned for a module instrument cannot read.
var errWasm = errors.New("engine: malformed or unsupported wasm")

// instrument returns wasm with a countdown at the top of every loop: every
// checkEvery iterations (counted over all loops, in a new global), or at the
// next one once the host sets the countdown to 1, the loop checks a second
// new global, the flag, and traps (`unreachable`) when it is set. The host
// sets both from another goroutine when a call overruns its deadline, so
// that even a loop that never ends traps; a write of the countdown lost to
// the loop's own decrement only delays the check by one period. At each
// check the loop also does `memory.grow 0`, which wazero runs in Go:
// compiled wasm cannot be preempted, and without that a garbage collection
// starting during a long loop would wait for it with every other goroutine,
// the timer that sets the flag included. The cost is a decrement and a test
// per iteration; wazero's own WithCloseOnContextDone calls into Go at every
// iteration, which makes loop-heavy batches several times slower.
func instrument(wasm []byte) ([]byte, error) {
	if len(wasm) < 8 || !bytes.Equal(wasm[:4], []byte("\x00asm")) {
		return nil, errWasm
	}
	type section struct {
		id   byte
		body []byte
	}
	var sections []section
	importedGlobals, globals := uint32(0), uint32(0)
	r := reader{b: wasm[8:]}
	for !r.done() {
		id := r.byte()
		n := r.u32()
		body := r.bytes(n)
		if r.err != nil {
			return nil, r.err
		}
		sections = append(sections, section{id, body})
		switch id {
		case 2:
			g, err := countImportedGlobals(body)
			if err != nil {
				return nil, err
			}
			importedGlobals = g
		case 6:
			s := reader{b: body}
			globals = s.u32()
			if s.err != nil {
				return nil, s.err
			}
		}
	}
	index := importedGlobals + globals
	out := append([]byte(nil), wasm[:8]...)
	emit := func(id byte, body []byte) {
		out = append(out, id)
		out = binary.AppendUvarint(out, uint64(len(body)))
		out = append(out, body...)
	}
	// Two mutable i32s: the flag, initialised by `i32.const 0; end`, then
	// the countdown, by `i32.const checkEvery; end`.
	global := []byte{0x7f, 0x01, 0x41, 0x00, 0x0b, 0x7f, 0x01, 0x41}
	global = appendSleb(global, checkEvery)
	global = append(global, 0x0b)
	wroteGlobal := false
	for _, s := range sections {
		// Known sections come in id order (custom ones, 0, anywhere; data
		// count, 12, between element and code): the global section, when
		// the module has none, goes before the first section past it.
		if !wroteGlobal && s.id != 0 && s.id != 12 && s.id > 6 {
			emit(6, appendVec(nil, 2, global))
			wroteGlobal = true
		}
		switch s.id {
		case 6:
			emit(6, appendVec(s.body, 2, global))
			wroteGlobal = true
		case 7:
			var exp []byte
			for i, name := range []string{interruptExport, countdownExport} {
				exp = binary.AppendUvarint(exp, uint64(len(name)))
				exp = append(exp, name...)
				exp = append(exp, 0x03) // a global
				exp = binary.AppendUvarint(exp, uint64(index)+uint64(i))
			}
			emit(7, appendVec(s.body, 2, exp))
		case 10:
			body, err := instrumentCode(s.body, index)
			if err != nil {
				return nil, err
			}
			emit(10, body)
		default:
			emit(s.id, s.body)
		}
	}
	return out, nil
}

// appendVec returns vec, a wasm vector (count, then items), with n more
// items appended; a nil vec is an empty one.
func appendVec(vec []byte, n uint32, items []byte) []byte {
	r := reader{b: vec}
	count := uint32(0)
	if len(vec) > 0 {
		count = r.u32()
	}
	out := binary.AppendUvarint(nil, uint64(count+n))
	out = append(out, r.b[r.i:]...)
	return append(out, items...)
}

func countImportedGlobals(body []byte) (uint32, error) {
	r := reader{b: body}
	globals := uint32(0)
	for n := r.u32(); n > 0 && r.err == nil; n-- {
		r.bytes(r.u32()) // module
		r.bytes(r.u32()) // name
		switch r.byte() {
		case 0x00, 0x04: // function, tag: a type index (a tag's after an attribute byte)
			r.u32()
		case 0x01: // table: reference type and limits
			r.byte()
			r.limits()
		case 0x02: // memory: limits
			r.limits()
		case 0x03: // global: value type and mutability
			r.byte()
			r.byte()
			globals++
		default:
			return 0, fmt.Errorf("%w: import kind", errWasm)
		}
	}
	return globals, r.err
}

// instrumentCode rewrites the code section, adding the countdown after every
// `loop` instruction; global is the flag's index, global+1 the countdown's.
func instrumentCode(body []byte, global uint32) ([]byte, error) {
	flag := binary.AppendUvarint(nil, uint64(global))
	count := binary.AppendUvarint(nil, uint64(global+1))
	var check []byte
	op := func(b ...byte) { check = append(check, b...) }
	op(0x23) // global.set count (count - 1)
	op(count...)
	op(0x41, 0x01, 0x6b, 0x24)
	op(count...)
	op(0x23) // if count == 0:
	op(count...)
	op(0x45, 0x04, 0x40)
	op(0x23) //   global.get flag; if: unreachable
	op(flag...)
	op(0x04, 0x40, 0x00, 0x0b)
	op(0x41, 0x00, 0x40, 0x00, 0x1a) // drop (memory.grow 0)
	op(0x41)                         //   global.set count checkEvery
	op(appendSleb(nil, checkEvery)...)
	op(0x24)
	op(count...)
	op(0x0b)
	r := reader{b: body}
	n := r.u32()
	out := binary.AppendUvarint(nil, uint64(n))
	for ; n > 0 && r.err == nil; n-- {
		fn := reader{b: r.bytes(r.u32())}
		start := fn.i
		for locals := fn.u32(); locals > 0 && fn.err == nil; locals-- {
			fn.u32()
			fn.byte()
		}
		code := append([]byte(nil), fn.b[start:fn.i]...)
		for !fn.done() && fn.err == nil {
			at := fn.i
			op := fn.byte()
			fn.immediates(op)
			code = append(code, fn.b[at:fn.i]...)
			if op == 0x03 {
				code = append(code, check...)
			}
		}
		if fn.err != nil {
			return nil, fn.err
		}
		out = binary.AppendUvarint(out, uint64(len(code)))
		out = append(out, code...)
	}
	if r.err != nil {
		return nil, r.err
	}
	return out, nil
}

// appendSleb appends v as a signed LEB128 number (an i32.const immediate).
func appendSleb(b []byte, v int32) []byte {
	for {
		c := byte(v & 0x7f)
		v >>= 7
		if v == 0 && c&0x40 == 0 || v == -1 && c&0x40 != 0 {
			return append(b, c)
		}
		b = append(b, c|0x80)
	}
}

// reader decodes wasm; the first error sticks and later reads return zeros.
type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) done() bool { return r.err != nil || r.i >= len(r.b) }

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s at byte %d", errWasm, what, r.i)
	}
}

func (r *reader) byte() byte {
	if r.err != nil || r.i >= len(r.b) {
		r.fail("truncated")
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

func (r *reader) bytes(n uint32) []byte {
	if r.err != nil || uint64(n) > uint64(len(r.b)-r.i) {
		r.fail("truncated")
		return nil
	}
	r.i += int(n)
	return r.b[r.i-int(n) : r.i]
}

// leb skips a LEB128 number of at most max bytes and returns its low 32 bits.
func (r *reader) leb(max int) uint32 {
	var v uint32
	for k := 0; k < max; k++ {
		c := r.byte()
		if k < 5 {
			v |= uint32(c&0x7f) << (7 * k)
		}
		if c&0x80 == 0 {
			return v
		}
	}
	r.fail("LEB128 too long")
	return 0
}

func (r *reader) u32() uint32 { return r.leb(5) }

func (r *reader) limits() {
	flags := r.byte()
	r.leb(10)
	if flags&1 != 0 {
		r.leb(10)
	}
}

func (r *reader) memarg() {
	if align := r.u32(); align&0x40 != 0 { // multi-memory: a memory index follows
		r.u32()
	}
	r.leb(10)
}

func (r *reader) blockType() {
	switch c := r.b[min(r.i, len(r.b)-1)]; {
	case c == 0x40 || c >= 0x6f && c <= 0x7f:
		r.byte()
	default:
		r.leb(5) // a type index, as s33
	}
}

// immediates skips the immediates of instruction op.
func (r *reader) immediates(op byte) {
	switch {
	case op == 0x02 || op == 0x03 || op == 0x04: // block, loop, if
		r.blockType()
	case op == 0x0c || op == 0x0d || op == 0x10 || op == 0x12: // br, br_if, call, return_call
		r.u32()
	case op == 0x0e: // br_table
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.u32()
		}
		r.u32()
	case op == 0x11 || op == 0x13: // call_indirect, return_call_indirect
		r.u32()
		r.u32()
	case op == 0x1c: // select with types
		for n := r.u32(); n > 0 && r.err == nil; n-- {
			r.byte()
		}
	case op >= 0x20 && op <= 0x26: // locals, globals, table.get/set
		r.u32()
	case op >= 0x28 && op <= 0x3e: // loads and stores
		r.memarg()
	case op == 0x3f || op == 0x40: // memory.size, memory.grow
		r.u32()
	case op == 0x41: // i32.const
		r.leb(5)
	case op == 0x42: // i64.const
		r.leb(10)
	case op == 0x43:
		r.bytes(4)
	case op == 0x44:
		r.bytes(8)
	case op == 0xd0: // ref.null
		r.byte()
	case op == 0xd2: // ref.func
		r.u32()
	case op == 0xfc:
		r.miscImmediates(r.u32())
	case op == 0xfd:
		r.simdImmediates(r.u32())
	case op <= 0x01 || op == 0x05 || op == 0x0b || op == 0x0f || op == 0x1a || op == 0x1b ||
		op >= 0x45 && op <= 0xc4 || op == 0xd1:
		// no immediates
	default:
		r.fail(fmt.Sprintf("opcode 0x%02x", op))
	}
}

func (r *reader) miscImmediates(op uint32) {
	switch {
	case op <= 7: // saturating truncations
	case op == 8 || op == 10 || op == 12 || op == 14: // memory.init, memory.copy, table.init, table.copy
		r.u32()
		r.u32()
	case op <= 17: // data.drop, memory.fill, elem.drop, table.grow/size/fill
		r.u32()
	default:
		r.fail(fmt.Sprintf("opcode 0xfc %d", op))
	}
}

func (r *reader) simdImmediates(op uint32) {
	switch {
	case op <= 11 || op == 92 || op == 93: // loads and stores
		r.memarg()
	case op == 12 || op == 13: // v128.const, i8x16.shuffle
		r.bytes(16)
	case op >= 21 && op <= 34: // extract and replace lane
		r.byte()
	case op >= 84 && op <= 91: // load and store lane
		r.memarg()
		r.byte()
	}
}
