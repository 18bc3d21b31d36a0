package broker

import (
	"context"
	"testing"
)

func TestOnlyTheClaimThatChangesTheStateWins(t *testing.T) {
	r := startRedis(t, 0)
	a := startNode(t, Config{URL: r.url()}, "1")
	b := startNode(t, Config{URL: r.url()}, "1")
	ctx := context.Background()
	claim := func(n *node, state string) bool {
		t.Helper()
		ok, err := n.Claim(ctx, "webhook:1:c1:x:", state)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !claim(a, "1") {
		t.Fatal("the first claim of a new state should win")
	}
	if claim(b, "1") {
		t.Fatal("a second node claiming the same state should lose")
	}
	if !claim(b, "0") || claim(a, "0") {
		t.Fatal("the next state is won once")
	}
	other := startNode(t, Config{URL: r.url(), Prefix: "other"}, "1")
	if !claim(other, "0") {
		t.Fatal("another prefix is another deployment: its claims are its own")
	}
}
