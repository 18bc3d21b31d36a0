package frankenphp

// #include <stddef.h>
import "C"
import "unsafe"

// The Go side of the PHP functions in pogo_websocket.c. The pointers point
// into PHP strings that live for the duration of the call only: they are
// viewed without copying, the bridge keeps none of them and the hub copies
// what it queues.

//export go_pogo_websocket_publish
func go_pogo_websocket_publish(appID *C.char, appIDLen C.size_t, channel *C.char, channelLen C.size_t,
	event *C.char, eventLen C.size_t, data *C.char, dataLen C.size_t, socketID *C.char, socketIDLen C.size_t) int64 {
	id := phpString(appID, appIDLen)
	return int64(countPublish(id, phpBridge.Publish(id, phpString(channel, channelLen),
		phpBytes(event, eventLen), phpBytes(data, dataLen), phpBytes(socketID, socketIDLen))))
}

//export go_pogo_websocket_broadcast_multi
func go_pogo_websocket_broadcast_multi(appID *C.char, appIDLen C.size_t, channels *C.char, channelsLen C.size_t,
	event *C.char, eventLen C.size_t, data *C.char, dataLen C.size_t, socketID *C.char, socketIDLen C.size_t) int64 {
	id := phpString(appID, appIDLen)
	return int64(countPublish(id, phpBridge.BroadcastMulti(id, phpBytes(channels, channelsLen),
		phpBytes(event, eventLen), phpBytes(data, dataLen), phpBytes(socketID, socketIDLen))))
}

func phpString(p *C.char, n C.size_t) string {
	return unsafe.String((*byte)(unsafe.Pointer(p)), int(n))
}

// phpBytes views n bytes at p; a NULL p (an absent optional argument) is nil.
func phpBytes(p *C.char, n C.size_t) []byte {
	if p == nil {
		return nil
	}
	return unsafe.Slice((*byte)(unsafe.Pointer(p)), int(n))
}
