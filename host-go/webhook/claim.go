package webhook

import (
	"context"
	"sync"
	"time"
)

// memoryClaimTTL is how long MemoryClaims remembers a state, as the broker's
// Redis claims do: two shards race for a transition within the time a relay
// takes between them (microseconds).
const memoryClaimTTL = time.Minute

// MemoryClaims is the Claimer of the engine shards of one node without a
// broker: each shard's engine sees the others' transitions as a node sees
// the other nodes', so the shards claim a transition here, in process,
// before one of them sends it. Its methods are safe for concurrent use.
type MemoryClaims struct {
	mu     sync.Mutex
	states map[string]claimed
	swept  time.Time
}

type claimed struct {
	state string
	at    time.Time
}

// NewMemoryClaims returns an empty in-process claim table.
func NewMemoryClaims() *MemoryClaims {
	return &MemoryClaims{states: map[string]claimed{}, swept: time.Now()}
}

// Claim records state as the last one sent for key and reports whether it
// changed it (Claimer). States older than a minute are forgotten, swept at
// most once a minute, which bounds the table by the transitions of a
// minute and a half.
func (m *MemoryClaims) Claim(_ context.Context, key, state string) (bool, error) {
	now := time.Now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.swept) >= memoryClaimTTL {
		for k, c := range m.states {
			if now.Sub(c.at) >= memoryClaimTTL {
				delete(m.states, k)
			}
		}
		m.swept = now
	}
	old, ok := m.states[key]
	m.states[key] = claimed{state: state, at: now}
	return !ok || now.Sub(old.at) >= memoryClaimTTL || old.state != state, nil
}
