package hub

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gobwas/ws"
)

// FuzzFrameReader writes frames built from the fuzz input (any opcode, flags,
// mask or not, true or lying 7/16/64-bit lengths, fragments, then raw bytes)
// on a real connection to a real hub and engine, and half-closes it. The
// server must neither panic nor hang: it answers with well-formed unmasked
// frames, sends nothing after a close frame, uses only valid close codes, and
// closes the connection within testTimeout.
func FuzzFrameReader(f *testing.F) {
	ping := []byte(`{"event":"pusher:ping","data":{}}`)
	sub := []byte(`{"event":"pusher:subscribe","data":{"channel":"news"}}`)
	f.Add(append([]byte{0x81, 1, byte(len(sub))}, sub...))
	f.Add(append(append([]byte{0x01, 1, 5}, ping[:5]...), append([]byte{0x80, 1, byte(len(ping) - 5)}, ping[5:]...)...))
	f.Add([]byte{0x89, 1, 4, 'p', 'i', 'n', 'g', 0x88, 1, 2, 0x03, 0xe8})
	f.Add([]byte{0x81, 1 | 4 | 8, 2, 'h', 'i'}) // a 64-bit length for 2 bytes
	f.Add([]byte{0x81, 0xE3, 64})               // claims 2^62 bytes
	f.Add([]byte{0x81, 16, 2, 'h', 'i'})        // unmasked
	f.Add([]byte{0xc1, 1, 0, 0x82, 1, 0, 0x8b, 1, 0, 0xFF, 0x81})
	_, srv := newTestHub(f, Config{ReadLimit: 1024})
	addr := strings.TrimPrefix(srv.URL, "http://")
	f.Fuzz(func(t *testing.T, program []byte) {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		nc, br, _, err := ws.Dial(ctx, "ws://"+addr+"/app/"+testApp.Key+"?protocol=7")
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		if br == nil {
			br = bufio.NewReader(nc)
		}
		_ = nc.SetDeadline(time.Now().Add(testTimeout))
		// Writes fail once the server has closed: what matters is its answer.
		_, _ = nc.Write(clientFrames(program))
		_ = nc.(*net.TCPConn).CloseWrite()

		closed := false
		for {
			f, err := ws.ReadFrame(br)
			if err != nil {
				var ne net.Error
				if errors.As(err, &ne) && ne.Timeout() {
					t.Fatalf("the server neither answered nor closed within %v", testTimeout)
				}
				if !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) && !isReset(err) {
					t.Fatalf("reading the server: %v", err)
				}
				return
			}
			if closed {
				t.Fatalf("%v frame after the close frame", f.Header.OpCode)
			}
			if f.Header.Masked || !f.Header.Fin || f.Header.Rsv != 0 {
				t.Fatalf("server frame header %+v", f.Header)
			}
			switch f.Header.OpCode {
			case ws.OpText:
				if !utf8.Valid(f.Payload) {
					t.Fatalf("text frame is not UTF-8: %q", f.Payload)
				}
			case ws.OpPong:
			case ws.OpClose:
				closed = true
				if len(f.Payload) >= 2 {
					code := binary.BigEndian.Uint16(f.Payload)
					if code < 1000 || (code > 1011 && code < 4000) || code > 4999 || code == 1005 || code == 1006 {
						t.Fatalf("close code %d", code)
					}
				}
			default:
				t.Fatalf("server sent a %v frame", f.Header.OpCode)
			}
		}
	})
}

// clientFrames turns a program into bytes for the wire: frames whose first
// byte is the program's (FIN, RSV, opcode), then a flags byte (16: unmasked;
// 4, 8: a longer length encoding; 2: lie, announcing n << 8*(flags>>5) bytes)
// and n, the payload's length; a 0xFF byte ends the frames and the rest goes
// out raw.
func clientFrames(program []byte) []byte {
	in := bytes.NewReader(program)
	var out []byte
	for in.Len() > 0 {
		b0, _ := in.ReadByte()
		if b0 == 0xFF {
			rest := make([]byte, in.Len())
			_, _ = in.Read(rest)
			return append(out, rest...)
		}
		flags, _ := in.ReadByte()
		n, _ := in.ReadByte()
		payload := make([]byte, min(int(n), in.Len()))
		_, _ = in.Read(payload)
		length := uint64(len(payload))
		if flags&2 != 0 { // lie about the length
			length = uint64(n) << (8 * (flags >> 5))
		}
		masked := flags&16 == 0
		out = append(out, b0)
		mb := byte(0)
		if masked {
			mb = 0x80
		}
		switch {
		case length < 126 && flags&4 == 0:
			out = append(out, mb|byte(length))
		case length <= 0xFFFF && flags&8 == 0:
			out = append(out, mb|126)
			out = binary.BigEndian.AppendUint16(out, uint16(length))
		default:
			out = append(out, mb|127)
			out = binary.BigEndian.AppendUint64(out, length)
		}
		if masked {
			key := [4]byte{0x12, 0x34, 0x56, flags}
			out = append(out, key[:]...)
			for i := range payload {
				payload[i] ^= key[i%4]
			}
		}
		out = append(out, payload...)
	}
	return out
}

func isReset(err error) bool {
	return strings.Contains(err.Error(), "connection reset")
}
