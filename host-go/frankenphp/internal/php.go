package frankenphp

// #include <stddef.h>
import "C"
import "unsafe"

// The Go side of the PHP functions in pogo_websocket.c. The pointers point
// into PHP strings that live for the duration of the call only; phpString
// views them without copying and the bridge copies what it keeps.

//export go_pogo_websocket_publish
func go_pogo_websocket_publish(appID *C.char, appIDLen C.size_t, channel *C.char, channelLen C.size_t,
	event *C.char, eventLen C.size_t, data *C.char, dataLen C.size_t) int64 {
	return int64(phpBridge.Publish(phpString(appID, appIDLen), phpString(channel, channelLen),
		phpString(event, eventLen), phpBytes(data, dataLen)))
}

//export go_pogo_websocket_broadcast_multi
func go_pogo_websocket_broadcast_multi(appID *C.char, appIDLen C.size_t, channels *C.char, channelsLen C.size_t,
	event *C.char, eventLen C.size_t, data *C.char, dataLen C.size_t) int64 {
	return int64(phpBridge.BroadcastMulti(phpString(appID, appIDLen), phpBytes(channels, channelsLen),
		phpString(event, eventLen), phpBytes(data, dataLen)))
}

func phpString(p *C.char, n C.size_t) string {
	return unsafe.String((*byte)(unsafe.Pointer(p)), int(n))
}

func phpBytes(p *C.char, n C.size_t) []byte {
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}
