package broker

import (
	"sync"
	"time"
)

// peers numbers the other nodes, from 1 and never reusing a number, and
// tells when one falls silent. The engine keys their presence members by
// that number.
type peers struct {
	mu    sync.Mutex
	next  uint32
	known map[string]*peer // by node id
	gone  func(node uint32)
}

type peer struct {
	number uint32
	seen   time.Time
}

// seen records that node id was heard from now and returns its number.
func (p *peers) seen(id string) uint32 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.known == nil {
		p.known = map[string]*peer{}
	}
	n := p.known[id]
	if n == nil {
		p.next++
		n = &peer{number: p.next}
		p.known[id] = n
	}
	n.seen = time.Now()
	return n.number
}

// expire forgets the nodes not heard from since before, and reports each as gone.
func (p *peers) expire(before time.Time) {
	var gone []uint32
	p.mu.Lock()
	for id, n := range p.known {
		if n.seen.Before(before) {
			delete(p.known, id)
			gone = append(gone, n.number)
		}
	}
	p.mu.Unlock()
	for _, number := range gone {
		p.gone(number)
	}
}

// forget drops node id, reporting it gone if it was known: it is about to
// relay all it has again, under a new number.
func (p *peers) forget(id string) {
	p.mu.Lock()
	n := p.known[id]
	delete(p.known, id)
	p.mu.Unlock()
	if n != nil {
		p.gone(n.number)
	}
}

// forgetAll drops every node, reporting each gone.
func (p *peers) forgetAll() {
	p.expire(time.Now().Add(time.Hour))
}
