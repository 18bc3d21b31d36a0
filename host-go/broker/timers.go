// The broker's periodic work: watching Redis, heartbeats and digests.

package broker

import (
	"context"
	"time"
)

// monitor pings Redis and subscribes again when it comes back.
func (r *Redis) monitor() {
	defer r.wg.Done()
	ticker := time.NewTicker(r.cfg.PingInterval)
	defer ticker.Stop()
	for {
		ctx, cancel := context.WithTimeout(r.ctx, r.cfg.Timeout)
		err := r.client.Ping(ctx).Err()
		if err == nil && !r.subscribed.Load() {
			// go-redis subscribes again when it reconnects; asking again is
			// harmless and covers a connection that survived the outage.
			err = r.pubsub.Subscribe(ctx, r.channels...)
		}
		cancel()
		switch {
		case r.ctx.Err() != nil:
		case err != nil:
			r.setDown(err)
		case !r.pingOK.Swap(true):
			r.log.Info("redis is reachable", "url", redacted(r.cfg.URL))
		}
		metrics.up.Set(map[bool]float64{true: 1, false: 0}[r.Up()])
		select {
		case <-ticker.C:
		case <-r.ctx.Done():
			return
		}
	}
}

// heartbeats tells the other nodes this node is alive every half ping
// interval, and forgets the nodes that fell silent, checked every quarter.
func (r *Redis) heartbeats() {
	defer r.wg.Done()
	quarter := max(r.cfg.PingInterval/4, time.Millisecond)
	ticker := time.NewTicker(quarter)
	defer ticker.Stop()
	for n := 0; ; n++ {
		if n%2 == 0 && r.Up() {
			_ = r.enqueue(r.nodes, kindHeartbeat, allShards, nil)
		}
		r.peers.expire(time.Now().Add(-peerTimeoutQuarters * quarter))
		select {
		case <-ticker.C:
		case <-r.ctx.Done():
			return
		}
	}
}

// digests asks the engine for its digest every digest interval while Redis is up.
func (r *Redis) digests() {
	defer r.wg.Done()
	ticker := time.NewTicker(r.cfg.DigestInterval)
	defer ticker.Stop()
	for {
		select {
		case <-ticker.C:
			if r.Up() {
				r.digest()
			}
		case <-r.ctx.Done():
			return
		}
	}
}
