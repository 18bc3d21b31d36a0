package broker

import (
	"sync"
	"time"
)

// allShards, in a sync request, names every shard of the sending node.
const allShards = 0xffff

// peers numbers the other nodes' engine shards, from 1 and never reusing a
// number, and tells when a node falls silent. The engine keys their presence
// members and counts by that number; a node with N shards is N numbers, all
// gone together when the node is.
type peers struct {
	mu    sync.Mutex
	next  uint32
	known map[string]*peer // by node id
	gone  func(node uint32)
}

type peer struct {
	seen   time.Time
	shards map[uint16]uint32 // shard index → number
}

// seen records that node id was heard from now and returns it.
func (p *peers) seen(id string) *peer {
	if p.known == nil {
		p.known = map[string]*peer{}
	}
	n := p.known[id]
	if n == nil {
		n = &peer{shards: map[uint16]uint32{}}
		p.known[id] = n
	}
	n.seen = time.Now()
	return n
}

// heard records that node id was heard from now.
func (p *peers) heard(id string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.seen(id)
}

// number records that shard of node id was heard from now and returns its number.
func (p *peers) number(id string, shard uint16) uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := p.seen(id)
	number, ok := n.shards[shard]
	if !ok {
		p.next++
		number = p.next
		n.shards[shard] = number
	}
	return number
}

// expire forgets the nodes not heard from since before, and reports each of
// their shards as gone.
func (p *peers) expire(before time.Time) {
	var gone []uint32
	p.mu.Lock()
	for id, n := range p.known {
		if n.seen.Before(before) {
			delete(p.known, id)
			for _, number := range n.shards {
				gone = append(gone, number)
			}
		}
	}
	p.mu.Unlock()
	for _, number := range gone {
		p.gone(number)
	}
}

// forget drops shard of node id (every shard with allShards), reporting it
// gone if it was known: it is about to relay all it has again, under a new
// number.
func (p *peers) forget(id string, shard uint16) {
	var gone []uint32
	p.mu.Lock()
	if n := p.known[id]; n != nil {
		for s, number := range n.shards {
			if shard == allShards || s == shard {
				delete(n.shards, s)
				gone = append(gone, number)
			}
		}
	}
	p.mu.Unlock()
	for _, number := range gone {
		p.gone(number)
	}
}

// forgetAll drops every node, reporting each shard gone.
func (p *peers) forgetAll() {
	p.expire(time.Now().Add(time.Hour))
}
