// Command rawfanout is the physical reference for the load scenarios: the
// least a Pusher-shaped server must do on this machine, with nothing else.
//
//	rawfanout [-addr 127.0.0.1:8098] [-key bench-key]
//
// It speaks just enough of the protocol for loadgen (connection_established,
// public subscribe, ping/pong, POST /apps/{id}/events) and fans an event out
// by writing one pre-encoded frame to each subscriber in a plain loop, one
// write syscall per delivery, from the HTTP handler's goroutine. It checks
// no signature, keeps no per-connection queue and applies no limits, so it
// is not a server: it is the floor that loadgen measures on this box, and a
// real server's figures are read against it.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"sync"
	"sync/atomic"

	"github.com/gobwas/ws"
	"github.com/gobwas/ws/wsutil"
)

type conn struct {
	nc net.Conn
	mu sync.Mutex // serializes writes: the reader answers pings
}

func (c *conn) write(frame []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.nc.Write(frame)
	return err
}

type server struct {
	key      string
	nextID   atomic.Uint64
	mu       sync.RWMutex
	channels map[string]map[*conn]struct{}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8098", "listen address (loopback)")
	key := flag.String("key", "bench-key", "app key clients connect with")
	flag.Parse()
	s := &server{key: *key, channels: map[string]map[*conn]struct{}{}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /app/{key}", s.serveWS)
	mux.HandleFunc("POST /apps/{id}/events", s.servePublish)
	log.Printf("rawfanout listening on %s", *addr)
	log.Fatal(http.ListenAndServe(*addr, mux))
}

func textFrame(payload []byte) []byte {
	return ws.MustCompileFrame(ws.NewTextFrame(payload))
}

func (s *server) serveWS(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("key") != s.key {
		http.Error(w, "unknown app key", http.StatusNotFound)
		return
	}
	nc, _, _, err := ws.UpgradeHTTP(r, w)
	if err != nil {
		return
	}
	c := &conn{nc: nc}
	id := s.nextID.Add(1)
	data, _ := json.Marshal(fmt.Sprintf(`{"socket_id":"1.%d","activity_timeout":120}`, id))
	if c.write(textFrame([]byte(`{"event":"pusher:connection_established","data":`+string(data)+`}`))) != nil {
		_ = nc.Close()
		return
	}
	go s.read(c)
}

// read handles a client's messages until it goes away.
func (s *server) read(c *conn) {
	var subscribed []string
	defer func() {
		s.mu.Lock()
		for _, ch := range subscribed {
			delete(s.channels[ch], c)
		}
		s.mu.Unlock()
		_ = c.nc.Close()
	}()
	for {
		msg, op, err := wsutil.ReadClientData(c.nc)
		if err != nil || op != ws.OpText {
			return
		}
		var m struct {
			Event string `json:"event"`
			Data  struct {
				Channel string `json:"channel"`
			} `json:"data"`
		}
		if json.Unmarshal(msg, &m) != nil {
			continue
		}
		switch m.Event {
		case "pusher:ping":
			err = c.write(textFrame([]byte(`{"event":"pusher:pong","data":{}}`)))
		case "pusher:subscribe":
			s.mu.Lock()
			if s.channels[m.Data.Channel] == nil {
				s.channels[m.Data.Channel] = map[*conn]struct{}{}
			}
			s.channels[m.Data.Channel][c] = struct{}{}
			s.mu.Unlock()
			subscribed = append(subscribed, m.Data.Channel)
			name, _ := json.Marshal(m.Data.Channel)
			err = c.write(textFrame([]byte(`{"event":"pusher_internal:subscription_succeeded","channel":` + string(name) + `,"data":"{}"}`)))
		}
		if err != nil {
			return
		}
	}
}

// servePublish encodes the event once and writes it to every subscriber of
// its channels, in a loop, before answering.
func (s *server) servePublish(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	var ev struct {
		Name     string   `json:"name"`
		Channels []string `json:"channels"`
		Data     string   `json:"data"`
	}
	if err != nil || json.Unmarshal(body, &ev) != nil {
		http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	name, _ := json.Marshal(ev.Name)
	data, _ := json.Marshal(ev.Data)
	for _, ch := range ev.Channels {
		channel, _ := json.Marshal(ch)
		frame := textFrame([]byte(`{"event":` + string(name) + `,"channel":` + string(channel) + `,"data":` + string(data) + `}`))
		s.mu.RLock()
		subs := make([]*conn, 0, len(s.channels[ch]))
		for c := range s.channels[ch] {
			subs = append(subs, c)
		}
		s.mu.RUnlock()
		for _, c := range subs {
			_ = c.write(frame) // a failed write shows up as a loss in loadgen
		}
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, "{}")
}
