package bridge

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

type fakeHub struct {
	max      int
	err      error
	appID    string
	channels string
	event    string
	data     string
	socketID string
}

func (h *fakeHub) Publish(appID string, channels []byte, event, data []byte, socketID []byte) error {
	h.appID, h.channels, h.event, h.data, h.socketID = appID, string(channels), string(event), string(data), string(socketID)
	return h.err
}

func (h *fakeHub) MaxEventPayload(appID string) int { return h.max }

func newBridge(h *fakeHub) *Bridge {
	return New(func(appID string) Publisher {
		if appID != "app" {
			return nil
		}
		return h
	})
}

func TestBridge_Publish_Codes(t *testing.T) {
	long := strings.Repeat("a", MaxNameLength+1)
	tests := []struct {
		name                 string
		hub                  fakeHub
		app, ch, event, data string
		want                 Code
	}{
		{"ok", fakeHub{}, "app", "news", "created", `{"a":1}`, OK},
		{"ok at limits", fakeHub{max: 7}, "app", strings.Repeat("c", MaxNameLength), strings.Repeat("e", MaxNameLength), `{"a":1}`, OK},
		{"server-to-user channel", fakeHub{}, "app", "#server-to-user-42", "e", `1`, OK},
		{"hub missing", fakeHub{}, "other", "news", "e", `1`, HubMissing},
		{"hub closed", fakeHub{err: ErrHubClosed}, "app", "news", "e", `1`, HubMissing},
		{"channel too long", fakeHub{}, "app", long, "e", `1`, ChannelInvalid},
		{"channel empty", fakeHub{}, "app", "", "e", `1`, ChannelInvalid},
		{"channel with other hash", fakeHub{}, "app", "#news", "e", `1`, ChannelInvalid},
		{"channel bare user prefix", fakeHub{}, "app", "#server-to-user-", "e", `1`, ChannelInvalid},
		{"channel bad character", fakeHub{}, "app", "news feed", "e", `1`, ChannelInvalid},
		{"channel quote", fakeHub{}, "app", `a"b`, "e", `1`, ChannelInvalid},
		{"event too long", fakeHub{}, "app", "news", long, `1`, EventInvalid},
		{"event empty", fakeHub{}, "app", "news", "", `1`, EventInvalid},
		{"payload too large", fakeHub{max: 6}, "app", "news", "e", `{"a":1}`, PayloadTooLarge},
		{"payload over default", fakeHub{}, "app", "news", "e", `"` + strings.Repeat("x", DefaultMaxPayload) + `"`, PayloadTooLarge},
		{"payload not json", fakeHub{}, "app", "news", "e", `{a:1}`, PayloadInvalid},
		{"payload empty", fakeHub{}, "app", "news", "e", ``, PayloadInvalid},
		{"payload not utf-8", fakeHub{}, "app", "news", "e", "\"caf\xe9\"", PayloadInvalid},
		{"event not utf-8", fakeHub{}, "app", "news", "caf\xe9", `1`, EventInvalid},
		{"broker error", fakeHub{err: errors.New("redis down")}, "app", "news", "e", `1`, BrokerPublishFailed},
		{"broker queue full", fakeHub{err: fmt.Errorf("app: %w", ErrBrokerQueueFull)}, "app", "news", "e", `1`, BrokerQueueFull},
		{"shard queue full", fakeHub{err: ErrShardQueueFull}, "app", "news", "e", `1`, ShardQueueFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.hub
			got := newBridge(&h).Publish(tt.app, tt.ch, []byte(tt.event), []byte(tt.data), nil)
			if got != tt.want {
				t.Fatalf("Publish = %d, want %d", got, tt.want)
			}
			if got == OK && (h.appID != tt.app || h.channels != `["`+tt.ch+`"]` || h.event != tt.event || h.data != tt.data) {
				t.Fatalf("hub got %q %q %q %q", h.appID, h.channels, h.event, h.data)
			}
		})
	}
}

func TestBridge_BroadcastMulti_Codes(t *testing.T) {
	many := "[" + strings.Repeat(`"c",`, MaxChannels) + `"c"]`
	tests := []struct {
		name     string
		hub      fakeHub
		app      string
		channels string
		event    string
		want     Code
	}{
		{"ok", fakeHub{}, "app", `["a","private-b"]`, "e", OK},
		{"hub missing", fakeHub{}, "nope", `["a"]`, "e", HubMissing},
		{"not json", fakeHub{}, "app", `[a]`, "e", ChannelsInvalid},
		{"not an array", fakeHub{}, "app", `"a"`, "e", ChannelsInvalid},
		{"not strings", fakeHub{}, "app", `[1]`, "e", ChannelsInvalid},
		{"empty", fakeHub{}, "app", `[]`, "e", ChannelsInvalid},
		{"too many", fakeHub{}, "app", many, "e", ChannelsInvalid},
		{"one channel too long", fakeHub{}, "app", `["a","` + strings.Repeat("b", MaxNameLength+1) + `"]`, "e", ChannelInvalid},
		{"event too long", fakeHub{}, "app", `["a"]`, strings.Repeat("e", MaxNameLength+1), EventInvalid},
		{"shard queue full", fakeHub{err: ErrShardQueueFull}, "app", `["a"]`, "e", ShardQueueFull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.hub
			got := newBridge(&h).BroadcastMulti(tt.app, []byte(tt.channels), []byte(tt.event), []byte(`{}`), nil)
			if got != tt.want {
				t.Fatalf("BroadcastMulti = %d, want %d", got, tt.want)
			}
		})
	}
}

func TestBridge_BroadcastMulti_ReencodesNames(t *testing.T) {
	h := fakeHub{}
	if got := newBridge(&h).BroadcastMulti("app", []byte(` [ "a" , "\u0062" ] `), []byte("e"), []byte(`{}`), nil); got != OK {
		t.Fatalf("BroadcastMulti = %d", got)
	}
	if h.channels != `["a","b"]` {
		t.Fatalf("hub got channels %s", h.channels)
	}
}

func TestBridge_SocketID_ExcludedOrRefused(t *testing.T) {
	tests := []struct {
		name, socketID string
		want           Code
	}{
		{"none", "", OK},
		{"server shape", "1234.5678", OK},
		{"no dot", "12345678", SocketIDInvalid},
		{"two dots", "1.2.3", SocketIDInvalid},
		{"empty part", "1234.", SocketIDInvalid},
		{"letters", "12a4.5678", SocketIDInvalid},
		{"too long", strings.Repeat("1", MaxSocketIDLength) + ".1", SocketIDInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var one, multi fakeHub
			b := newBridge(&one)
			if got := b.Publish("app", "news", []byte("e"), []byte(`{}`), []byte(tt.socketID)); got != tt.want {
				t.Fatalf("Publish = %d, want %d", got, tt.want)
			}
			b = newBridge(&multi)
			if got := b.BroadcastMulti("app", []byte(`["a","b"]`), []byte("e"), []byte(`{}`), []byte(tt.socketID)); got != tt.want {
				t.Fatalf("BroadcastMulti = %d, want %d", got, tt.want)
			}
			if tt.want == OK && (one.socketID != tt.socketID || multi.socketID != tt.socketID) {
				t.Fatalf("hub got socket ids %q and %q, want %q", one.socketID, multi.socketID, tt.socketID)
			}
		})
	}
}
