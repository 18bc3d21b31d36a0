package main

import (
	"maps"
	"slices"
	"sync"
)

// roster is the generator's truth about presence: for each channel, how
// many of its connections hold each user id. A member is added when the
// server confirmed the join and removed when the generator starts to leave
// (unsubscribe, close frame or a bare TCP close), so after the generator
// quiesces the server's rosters must equal it exactly.
type roster struct {
	mu     sync.Mutex
	users  map[string]map[string]int
	joins  int64
	leaves int64
}

func newRoster(channels []string) *roster {
	r := &roster{users: make(map[string]map[string]int, len(channels))}
	for _, ch := range channels {
		r.users[ch] = map[string]int{}
	}
	return r
}

func (r *roster) join(channel, user string) {
	r.mu.Lock()
	r.users[channel][user]++
	r.joins++
	r.mu.Unlock()
}

func (r *roster) leave(channel, user string) {
	r.mu.Lock()
	m := r.users[channel]
	if m[user]--; m[user] <= 0 {
		delete(m, user)
	}
	r.leaves++
	r.mu.Unlock()
}

// members returns the sorted user ids of channel.
func (r *roster) members(channel string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Sorted(maps.Keys(r.users[channel]))
}

// counts returns the number of distinct members over every channel, and the
// joins and leaves so far.
func (r *roster) counts() (members int, joins, leaves int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, m := range r.users {
		members += len(m)
	}
	return members, r.joins, r.leaves
}

// diff returns the ids in got that want lacks (ghosts) and the ids in want
// that got lacks (missing); both are sorted.
func diff(got, want []string) (ghosts, missing []string) {
	in := func(s []string, v string) bool { _, ok := slices.BinarySearch(s, v); return ok }
	for _, g := range got {
		if !in(want, g) {
			ghosts = append(ghosts, g)
		}
	}
	for _, w := range want {
		if !in(got, w) {
			missing = append(missing, w)
		}
	}
	return ghosts, missing
}
