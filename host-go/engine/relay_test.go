package engine

import (
	"bytes"
	"errors"
	"testing"
)

func TestActions_Relay_AppIDAfterTheRecordKind(t *testing.T) {
	good := []byte("\x01\x03\x00app\x04\x00news\x00\x00\x01{}")
	for _, tc := range []struct {
		name    string
		payload []byte
		ok      bool
	}{
		{"event", good, true},
		{"terminate", []byte("\x02\x03\x00app\x02\x00u1"), true},
		{"empty", nil, false},
		{"kind only", good[:1], false},
		{"truncated app id", good[:4], false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			it := NewActions(actionBatch(nil).record(ActionRelay, 0, tc.payload))
			if !it.Next() || it.Kind() != ActionRelay {
				t.Fatalf("record: %v", it.Err())
			}
			appID, record, err := it.Relay()
			if tc.ok {
				if err != nil || string(appID) != "app" || !bytes.Equal(record, tc.payload) {
					t.Fatalf("got %q %q %v", appID, record, err)
				}
			} else if !errors.Is(err, ErrMalformedAction) {
				t.Fatalf("err = %v, want ErrMalformedAction", err)
			}
		})
	}
}

func TestBatch_Remote_CarriesTheNodeAndTheRecordAsIs(t *testing.T) {
	var b Batch
	record := []byte("\x02\x03\x00app\x02\x00u1")
	b.Remote(7, record)
	if got, want := RemoteSize(record), b.Len()-BatchHeaderSize; got != want {
		t.Errorf("RemoteSize = %d, appended %d", got, want)
	}
	b.NodeGone(7)
	b.Sync()
	b.Digest()
	_, events := decodeEvents(t, b.Bytes())
	if len(events) != 4 || events[0].kind != EventRemote || events[0].id != 7 || !bytes.Equal(events[0].payload, record) ||
		events[1].kind != EventNodeGone || events[1].id != 7 || len(events[1].payload) != 0 ||
		events[2].kind != EventSync || len(events[2].payload) != 0 ||
		events[3].kind != EventDigest || len(events[3].payload) != 0 {
		t.Fatalf("events = %+v", events)
	}
}
