package hub

import (
	"math"
	"sync"
)

// table maps connection ids to connections. Ids are dense slot numbers
// starting at 1; a freed slot is reused by a later connection, which keeps
// ids small and the engine's tables compact.
//
// A slot is freed only by the engine goroutine, after the batch carrying the
// connection's CLOSED event has been processed and its actions dispatched, so
// an action can never reach a newer connection that reused the id.
type table struct {
	mu    sync.RWMutex
	slots []*conn // slots[0] is never used
	free  []uint32
	count int
}

// add gives c an id; it fails only when every u32 id is taken.
func (t *table) add(c *conn) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if n := len(t.free); n > 0 {
		c.id = t.free[n-1]
		t.free = t.free[:n-1]
		t.slots[c.id] = c
	} else {
		if len(t.slots) == 0 {
			t.slots = append(t.slots, nil)
		}
		if uint64(len(t.slots)) > math.MaxUint32 {
			return false
		}
		c.id = uint32(len(t.slots))
		t.slots = append(t.slots, c)
	}
	t.count++
	return true
}

// getLocked returns the connection with id, or nil; the caller holds t.mu.
func (t *table) getLocked(id uint32) *conn {
	if uint64(id) >= uint64(len(t.slots)) {
		return nil
	}
	return t.slots[id]
}

// remove empties the slot of id; with reuse false the id is never given out
// again (used when the engine may not have seen the CLOSED event).
func (t *table) remove(id uint32, reuse bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if uint64(id) >= uint64(len(t.slots)) || t.slots[id] == nil {
		return
	}
	t.slots[id] = nil
	t.count--
	if reuse {
		t.free = append(t.free, id)
	}
}

// len returns the number of connections in the table.
func (t *table) len() int {
	t.mu.RLock()
	defer t.mu.RUnlock()
	return t.count
}

// all returns the connections in the table.
func (t *table) all() []*conn {
	t.mu.RLock()
	defer t.mu.RUnlock()
	out := make([]*conn, 0, t.count)
	for _, c := range t.slots {
		if c != nil {
			out = append(out, c)
		}
	}
	return out
}
