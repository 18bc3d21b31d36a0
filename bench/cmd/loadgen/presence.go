package main

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/report"
	"github.com/pogo-websocket/pogo-websocket/bench/internal/stats"
)

// runPresence is presence churn: client i is user "u<i>" of channel
// presence-churn-<i / members>; for one -step every client joins (and waits
// for subscription_succeeded), leaves, joins again..., each join and each
// leave one transition. When the step ends each client makes at most one
// more transition, to end joined if i is even and left if odd, then sends
// pusher:ping and waits for the pong, so that the server has
// handled its last unsubscribe. Then every roster is read through the signed
// HTTP API and compared with the members that stopped joined.
func runPresence(ctx context.Context, cfg *config) error {
	members := cfg.presenceMembers
	f, st, err := connect(ctx, cfg.dialer, cfg.conns, cfg.dialConc, nil)
	printConnect(cfg, st)
	if err != nil {
		return err
	}
	defer f.close()
	n := len(f.clients)
	channelOf := func(i int) string { return "presence-churn-" + strconv.Itoa(i/members) }
	joined := make([]bool, n)
	broken := make([]error, n) // a client whose state is unknown
	var transitions atomic.Int64
	var joinLatency stats.Histogram
	sctx, cancel := context.WithTimeout(ctx, cfg.step)
	defer cancel()
	cpu := startCPU(cfg.server)
	var wg sync.WaitGroup
	for i, c := range f.clients {
		wg.Go(func() {
			ch := channelOf(i)
			data := `{"user_id":"u` + strconv.Itoa(i) + `"}`
			auth := cfg.creds.PresenceAuth(c.socketID, ch, data)
			// After the step, client i ends joined when i is even, so that
			// both joins and leaves are checked.
			for sctx.Err() == nil || joined[i] != (i%2 == 0) {
				if ctx.Err() != nil {
					return
				}
				var err error
				if joined[i] {
					err = c.writeText(pusher.Unsubscribe(ch))
				} else {
					t0 := time.Now()
					if err = c.writeText(pusher.SubscribePresence(ch, auth, data)); err == nil {
						err = c.await(cfg.dialer.timeout, "pusher_internal:subscription_succeeded", ch)
					}
					joinLatency.Record(time.Since(t0))
				}
				if err != nil {
					broken[i] = err
					return
				}
				joined[i] = !joined[i]
				transitions.Add(1)
			}
			if err := c.writeText(pusher.Ping); err == nil {
				broken[i] = c.await(cfg.dialer.timeout, "pusher:pong", "")
			} else {
				broken[i] = err
			}
		})
	}
	wg.Wait()
	cpu.stop()
	if ctx.Err() != nil {
		return ctx.Err()
	}

	// The rosters, channel by channel.
	want := map[string]map[string]bool{}
	unknown := map[string]bool{}
	var firstBroken error
	brokenN := 0
	for i := range n {
		ch := channelOf(i)
		if want[ch] == nil {
			want[ch] = map[string]bool{}
		}
		if broken[i] != nil {
			unknown[ch] = true
			brokenN++
			if firstBroken == nil {
				firstBroken = broken[i]
			}
			continue
		}
		if joined[i] {
			want[ch]["u"+strconv.Itoa(i)] = true
		}
	}
	api := newPublisher(cfg.addr, cfg.creds, 1, 0, cfg.tls)
	defer api.close()
	checked, exact, members0 := 0, 0, 0
	var firstDiff string
	for ch, w := range want {
		if unknown[ch] {
			continue
		}
		body, err := api.get(ctx, cfg.creds.UsersPath(ch))
		if err != nil {
			return fmt.Errorf("roster of %s: %w", ch, err)
		}
		missing, extra, dup, err := rosterDiff(body, w)
		if err != nil {
			return err
		}
		checked++
		members0 += len(w)
		if len(missing)+len(extra)+len(dup) == 0 {
			exact++
		} else if firstDiff == "" {
			firstDiff = fmt.Sprintf("%s: missing %v, extra %v, listed twice %v", ch, missing, extra, dup)
		}
	}

	fmt.Fprintf(cfg.out, "\n### Presence churn: %s clients, %d per channel (%d channels), join/leave for %v\n\n",
		report.Num(float64(n)), members, len(want), cfg.step)
	t := report.NewTable(">transitions", ">transitions/s", ">join p50", ">join p99", ">rosters exact",
		">members at the end", ">clients failed", ">server CPU", ">client CPU")
	t.Row(report.Num(float64(transitions.Load())), report.Num(float64(transitions.Load())/cpu.wall.Seconds()),
		report.Dur(joinLatency.Quantile(0.5)), report.Dur(joinLatency.Quantile(0.99)),
		fmt.Sprintf("%d of %d", exact, len(want)), report.Num(float64(members0)), brokenN, cpu.Server(), cpu.Client())
	t.Print(cfg.out)
	if firstBroken != nil {
		fmt.Fprintf(cfg.out, "\n%d clients failed (their channels' rosters were not checked), first: %v\n", brokenN, firstBroken)
	}
	if firstDiff != "" {
		fmt.Fprintf(cfg.out, "\nfirst inexact roster: %s\n", firstDiff)
	}
	if exact != len(want) {
		return fmt.Errorf("presence churn: %d of %d rosters exact (%d checked)", exact, len(want), checked)
	}
	return nil
}

// await reads until event arrives (on channel, when not empty), answering
// pusher:ping and skipping member events; a pusher:error or
// pusher:subscription_error fails.
func (c *client) await(timeout time.Duration, event, channel string) error {
	_ = c.nc.SetReadDeadline(time.Now().Add(timeout))
	defer c.nc.SetReadDeadline(time.Time{})
	for {
		msg, err := c.readText()
		if err != nil {
			return err
		}
		e, err := pusher.ParseEvent(msg)
		if err != nil {
			return err
		}
		switch {
		case e.Event == event && (channel == "" || e.Channel == channel):
			return nil
		case e.Event == "pusher:ping":
			if err := c.writeText(pusher.Pong); err != nil {
				return err
			}
		case e.Event == "pusher:error" || e.Event == "pusher:subscription_error":
			return fmt.Errorf("waiting for %s: %.200s", event, msg)
		}
	}
}
