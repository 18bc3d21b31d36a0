package broker

import (
	"slices"
	"testing"
	"time"
)

func TestPeersNumberEachShardOfANodeAndDropThemTogether(t *testing.T) {
	var gone []uint32
	p := peers{gone: func(n uint32) { gone = append(gone, n) }}
	a0, a1, b0 := p.number("a", 0), p.number("a", 1), p.number("b", 0)
	if a0 == a1 || a0 == b0 || a1 == b0 {
		t.Fatalf("numbers %d %d %d, want three different ones", a0, a1, b0)
	}
	if again := p.number("a", 1); again != a1 {
		t.Fatalf("shard 1 of a renumbered %d → %d", a1, again)
	}

	// One shard restarted empty: only its number goes, and it comes back as a new one.
	p.forget("a", 1)
	if !slices.Equal(gone, []uint32{a1}) {
		t.Fatalf("gone %v, want [%d]", gone, a1)
	}
	if n := p.number("a", 1); n == a1 {
		t.Fatalf("shard 1 of a kept number %d after its rejoin", n)
	}

	// A node falling silent takes every shard with it; the others stay.
	gone = nil
	p.heard("b")
	p.mu.Lock()
	p.known["a"].seen = time.Now().Add(-time.Hour)
	p.mu.Unlock()
	p.expire(time.Now().Add(-time.Minute))
	if len(gone) != 2 || slices.Contains(gone, b0) {
		t.Fatalf("gone %v, want both shards of a and not b's %d", gone, b0)
	}

	// A whole node's sync request drops all its shards.
	gone = nil
	p.number("b", 3)
	p.forget("b", allShards)
	if len(gone) != 2 {
		t.Fatalf("gone %v, want b's two shards", gone)
	}
}
