package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
)

// stayer is a connection that lives for the whole run. It is subscribed to
// one public channel (whose HTTP publishes it checks by sequence number),
// one private channel (whose client events it sends and checks, per
// sender) and one presence channel (as user "stay-<index>").
type stayer struct {
	index               int
	node                int
	c                   *conn
	public, private     string
	presence, user      string
	sent                atomic.Uint64 // client events sent, numbered from 1
	mu                  sync.Mutex
	lastPub             uint64
	lastFrom            map[int]uint64 // last client event seq per sending stayer
	pubLost, pubDup     uint64         // gaps and repeats seen while running
	eventLost, eventDup uint64
	received            uint64 // every event delivered to it
}

// publicEvent is the name of the HTTP-published events; its data is
// "<seq>" on public channels.
const publicEvent = "soak"

// clientEvent is the name of the client events; data {"from":i,"seq":n},
// from -1 for churners.
const clientEvent = "client-soak"

type clientData struct {
	From int    `json:"from"`
	Seq  uint64 `json:"seq"`
}

// onEvent checks one delivery's sequence number.
func (s *stayer) onEvent(e pusher.Event) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.received++
	switch {
	case e.Event == publicEvent && e.Channel == s.public:
		var data string
		if json.Unmarshal(e.Data, &data) != nil {
			return
		}
		seq, err := strconv.ParseUint(data, 10, 64)
		if err != nil {
			return
		}
		s.lastPub = check(s.lastPub, seq, &s.pubLost, &s.pubDup)
	case e.Event == clientEvent && e.Channel == s.private:
		var d clientData
		if json.Unmarshal(e.Data, &d) != nil || d.From < 0 {
			return
		}
		last := s.lastFrom[d.From]
		s.lastFrom[d.From] = check(last, d.Seq, &s.eventLost, &s.eventDup)
	}
}

// check compares seq with the last one seen, counts a gap as lost and a
// repeat (or an older one) as a duplicate, and returns the new last.
func check(last, seq uint64, lost, dup *uint64) uint64 {
	switch {
	case seq == last+1:
		return seq
	case seq > last+1:
		*lost += seq - last - 1
		return seq
	default:
		*dup++
		return last
	}
}

// connectStayers opens every stayer and joins its three channels.
func (sk *soak) connectStayers(ctx context.Context) error {
	sk.stayers = make([]*stayer, sk.cfg.stayers)
	for i := range sk.stayers {
		s := &stayer{
			index:    i,
			node:     i % len(sk.nodes),
			public:   sk.publicChannels[i%len(sk.publicChannels)],
			private:  sk.privateChannels[i%len(sk.privateChannels)],
			presence: sk.presenceChannels[i%len(sk.presenceChannels)],
			user:     "stay-" + strconv.Itoa(i),
			lastFrom: map[int]uint64{},
		}
		c, err := dial(ctx, sk.nodes[s.node].wsURL, sk.cfg.timeout)
		if err != nil {
			return fmt.Errorf("stayer %d: %w", i, err)
		}
		s.c = c
		sk.stayers[i] = s
		c.start(s.onEvent, sk.onPusherError)
		if err := sk.join(c, s.public, s.private, s.presence, s.user); err != nil {
			return fmt.Errorf("stayer %d: %w", i, err)
		}
	}
	return nil
}

// join subscribes c to a public, a private and a presence channel (any of
// them may be empty) and records the presence membership.
func (sk *soak) join(c *conn, public, private, presence, user string) error {
	if public != "" {
		if err := c.subscribe(public, pusher.Subscribe(public, ""), sk.cfg.timeout); err != nil {
			return err
		}
	}
	if private != "" {
		if err := c.subscribe(private, pusher.Subscribe(private, sk.cfg.creds.ChannelAuth(c.socketID, private)), sk.cfg.timeout); err != nil {
			return err
		}
	}
	if presence != "" {
		data := `{"user_id":"` + user + `","user_info":{}}`
		msg := pusher.SubscribePresence(presence, sk.cfg.creds.PresenceAuth(c.socketID, presence, data), data)
		if err := c.subscribe(presence, msg, sk.cfg.timeout); err != nil {
			return err
		}
		sk.truth.join(presence, user)
	}
	return nil
}

func (sk *soak) onPusherError(msg []byte) {
	if sk.pusherErrors.Add(1) == 1 {
		sk.firstPusherError.Store(string(msg))
	}
}

// sendClientEvents makes every stayer send a numbered client event on its
// private channel, each at cfg.clientRate per second, until ctx ends.
func (sk *soak) sendClientEvents(ctx context.Context) {
	if sk.cfg.clientRate <= 0 {
		return
	}
	period := time.Duration(float64(time.Second) / sk.cfg.clientRate)
	var wg sync.WaitGroup
	for _, s := range sk.stayers {
		wg.Go(func() {
			// Spread the senders over the period.
			if !sleepCtx(ctx, time.Duration(s.index)*period/time.Duration(len(sk.stayers))) {
				return
			}
			t := time.NewTicker(period)
			defer t.Stop()
			for {
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
				seq := s.sent.Load() + 1
				data, _ := json.Marshal(clientData{From: s.index, Seq: seq})
				if s.c.send(pusher.ClientEvent(clientEvent, s.private, data)) != nil {
					return // the connection ended: reported as a stayer lost
				}
				s.sent.Store(seq)
			}
		})
	}
	wg.Wait()
}

// publish sends numbered HTTP publishes to every public channel, each
// channel from its own goroutine, one request at a time (so that the
// numbers reach the server in order), at cfg.publishRate per second in all.
func (sk *soak) publish(ctx context.Context) {
	if sk.cfg.publishRate <= 0 {
		return
	}
	per := time.Duration(float64(time.Second) * float64(len(sk.publicChannels)) / sk.cfg.publishRate)
	var wg sync.WaitGroup
	for k, ch := range sk.publicChannels {
		node := sk.nodes[k%len(sk.nodes)]
		wg.Go(func() {
			if !sleepCtx(ctx, time.Duration(k)*per/time.Duration(len(sk.publicChannels))) {
				return
			}
			next := time.Now()
			for seq := uint64(1); ; seq++ {
				if !sleepCtx(ctx, time.Until(next)) {
					return
				}
				next = next.Add(per)
				err := sk.api.publish(ctx, node, ch, publicEvent, strconv.FormatUint(seq, 10))
				if ctx.Err() != nil {
					return // stopped in flight: the number may or may not have been delivered
				}
				if err != nil {
					sk.publishErrors.Add(1)
					sk.firstPublishError.CompareAndSwap(nil, err.Error())
					continue
				}
				sk.acked[k].Store(seq)
				sk.published.Add(1)
			}
		})
	}
	wg.Wait()
}

// finalLosses returns, over the stayers still connected, the events each
// should have received and did not (gaps plus a missing tail), and repeats.
// Events between stayers that both stayed count; so does every publish the
// server acknowledged.
func (sk *soak) finalLosses() (lost, dup uint64, gone int) {
	alive := map[int]bool{}
	for _, s := range sk.stayers {
		select {
		case <-s.c.done:
			gone++
		default:
			alive[s.index] = true
		}
	}
	for _, s := range sk.stayers {
		if !alive[s.index] {
			continue
		}
		s.mu.Lock()
		acked := sk.acked[sk.channelIndex(s.public)].Load()
		lost += s.pubLost + s.eventLost
		dup += s.pubDup + s.eventDup
		if acked > s.lastPub {
			lost += acked - s.lastPub
		}
		for _, o := range sk.stayers {
			if o == s || o.private != s.private || !alive[o.index] {
				continue
			}
			if sent := o.sent.Load(); sent > s.lastFrom[o.index] {
				lost += sent - s.lastFrom[o.index]
			}
		}
		s.mu.Unlock()
	}
	return lost, dup, gone
}

func (sk *soak) channelIndex(public string) int {
	i, _ := strconv.Atoi(strings.TrimPrefix(public, "soak-pub-"))
	return i
}

func sleepCtx(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}
