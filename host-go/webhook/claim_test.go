package webhook

import (
	"context"
	"testing"
	"time"
)

func TestMemoryClaimsLetOneShardSendEachTransition(t *testing.T) {
	m := NewMemoryClaims()
	ctx := context.Background()
	claim := func(key, state string) bool {
		t.Helper()
		ok, err := m.Claim(ctx, key, state)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim("c:x", "1") {
		t.Fatal("the first channel_occupied was not claimed")
	}
	if claim("c:x", "1") {
		t.Fatal("a second shard seeing the same 0→1 claimed it too")
	}
	if !claim("c:x", "0") || claim("c:x", "0") {
		t.Fatal("channel_vacated must be claimed once")
	}
	if !claim("c:y", "1") {
		t.Fatal("another channel's transition was refused")
	}
	// A state older than the TTL is forgotten, as Redis's key expires.
	m.mu.Lock()
	m.states["c:y"] = claimed{state: "1", at: time.Now().Add(-2 * memoryClaimTTL)}
	m.swept = time.Now().Add(-2 * memoryClaimTTL)
	m.mu.Unlock()
	if !claim("c:z", "1") {
		t.Fatal("c:z refused")
	}
	m.mu.Lock()
	_, kept := m.states["c:y"]
	m.mu.Unlock()
	if kept {
		t.Fatal("an expired state was not swept")
	}
}
