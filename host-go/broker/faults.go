package broker

import (
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
)

// faultDropEnv names the fault-injection variable (see the package doc).
const faultDropEnv = "POGO_WEBSOCKET_FAULT_DROP_RELAY"

// faultDrop drops the next left outgoing relay records of one kind.
type faultDrop struct {
	kind byte
	left atomic.Int64
}

// parseFaultDrop reads "<kind>:<n>"; empty means no fault.
func parseFaultDrop(v string) (kind byte, count int64, err error) {
	if v == "" {
		return 0, 0, nil
	}
	k, n, ok := strings.Cut(v, ":")
	kv, kerr := strconv.ParseUint(k, 10, 8)
	count, nerr := strconv.ParseInt(n, 10, 64)
	if !ok || kerr != nil || nerr != nil || count < 0 {
		return 0, 0, fmt.Errorf("broker: %s=%q: want <record kind>:<count>", faultDropEnv, v)
	}
	return byte(kv), count, nil
}

// drop reports whether record must be dropped, counting it down.
func (f *faultDrop) drop(record []byte) bool {
	if len(record) == 0 || record[0] != f.kind || f.left.Load() <= 0 {
		return false
	}
	return f.left.Add(-1) >= 0
}
