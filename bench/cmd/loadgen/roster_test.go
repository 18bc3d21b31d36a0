package main

import (
	"slices"
	"testing"
)

func TestRosterDiffFindsMissingExtraAndDuplicateMembers(t *testing.T) {
	body := []byte(`{"users":[{"id":"u1"},{"id":"u3"},{"id":"u3"},{"id":"u9"}]}`)
	missing, extra, dup, err := rosterDiff(body, map[string]bool{"u1": true, "u2": true, "u3": true})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(missing, []string{"u2"}) || !slices.Equal(extra, []string{"u9"}) || !slices.Equal(dup, []string{"u3"}) {
		t.Errorf("missing %v extra %v dup %v; want [u2] [u9] [u3]", missing, extra, dup)
	}
}

func TestRosterDiffAcceptsAnExactRosterInAnyOrder(t *testing.T) {
	missing, extra, dup, err := rosterDiff([]byte(`{"users":[{"id":"b"},{"id":"a"}]}`), map[string]bool{"a": true, "b": true})
	if err != nil || len(missing)+len(extra)+len(dup) != 0 {
		t.Errorf("missing %v extra %v dup %v err %v; want an exact match", missing, extra, dup, err)
	}
}

func TestRosterDiffReadsNumericIDs(t *testing.T) {
	missing, extra, _, err := rosterDiff([]byte(`{"users":[{"id":10}]}`), map[string]bool{"10": true})
	if err != nil || len(missing)+len(extra) != 0 {
		t.Errorf("missing %v extra %v err %v", missing, extra, err)
	}
}

func TestRosterDiffRejectsMalformedAnswers(t *testing.T) {
	if _, _, _, err := rosterDiff([]byte(`not json`), nil); err == nil {
		t.Error("accepted a body that is not JSON")
	}
}
