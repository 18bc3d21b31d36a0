package main

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/pogo-websocket/pogo-websocket/bench/internal/pusher"
)

// How a churning connection leaves; each is picked with equal odds.
const (
	leaveUnsubscribe = iota // pusher:unsubscribe from the presence channel, then a close frame
	leaveCloseFrame         // a close frame (1000) while still subscribed
	leaveTCPClose           // a bare TCP close, no close frame
	leaveWays
)

// churn runs cfg.churners loops until ctx ends. Each loop connects to a
// random node, subscribes to a random public channel, joins a random
// presence channel as one of cfg.churnUsers user ids (so one user often has
// several connections in a channel), sometimes joins a private channel and
// sends a client event, stays for a random time around cfg.hold and leaves
// in one of the three ways above.
func (sk *soak) churn(ctx context.Context) {
	var wg sync.WaitGroup
	for w := range sk.cfg.churners {
		rng := rand.New(rand.NewPCG(uint64(w), uint64(time.Now().UnixNano())))
		wg.Go(func() {
			// Spread the first connects over one hold.
			if !sleepCtx(ctx, time.Duration(rng.Int64N(int64(sk.cfg.hold)))) {
				return
			}
			for ctx.Err() == nil {
				sk.churnOnce(ctx, rng)
			}
		})
	}
	wg.Wait()
}

func (sk *soak) churnOnce(ctx context.Context, rng *rand.Rand) {
	node := sk.nodes[rng.IntN(len(sk.nodes))]
	c, err := dial(ctx, node.wsURL, sk.cfg.timeout)
	if err != nil {
		if ctx.Err() == nil {
			sk.churnFailed(err)
			sleepCtx(ctx, time.Second)
		}
		return
	}
	sk.churnOpened.Add(1)
	c.start(func(pusher.Event) { sk.churnReceived.Add(1) }, sk.onPusherError)
	public := sk.publicChannels[rng.IntN(len(sk.publicChannels))]
	presence := sk.presenceChannels[rng.IntN(len(sk.presenceChannels))]
	user := "churn-" + strconv.Itoa(rng.IntN(sk.cfg.churnUsers))
	private := ""
	if rng.IntN(2) == 0 {
		private = sk.privateChannels[rng.IntN(len(sk.privateChannels))]
	}
	if err := sk.join(c, public, private, presence, user); err != nil {
		// A failed join leaves the roster as it was: join records a member
		// only once the server confirmed it.
		c.closeAbruptly()
		if ctx.Err() == nil {
			sk.churnFailed(err)
		}
		return
	}
	if private != "" {
		data, _ := json.Marshal(clientData{From: -1, Seq: 1})
		if c.send(pusher.ClientEvent(clientEvent, private, data)) == nil {
			sk.churnEvents.Add(1)
		}
	}
	// Stay between 0.5 and 1.5 holds; a stop ends the stay, not the leave.
	stay := sk.cfg.hold/2 + time.Duration(rng.Int64N(int64(sk.cfg.hold)))
	sleepCtx(ctx, stay)
	sk.truth.leave(presence, user)
	switch rng.IntN(leaveWays) {
	case leaveUnsubscribe:
		_ = c.send(pusher.Unsubscribe(presence))
		c.closeGracefully()
	case leaveCloseFrame:
		c.closeGracefully()
	default:
		c.closeAbruptly()
	}
	sk.churnClosed.Add(1)
}

func (sk *soak) churnFailed(err error) {
	if sk.churnFailures.Add(1) == 1 {
		sk.firstChurnError.Store(err.Error())
	}
}
