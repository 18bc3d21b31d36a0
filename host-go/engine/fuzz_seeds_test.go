package engine

// Seed programs for FuzzEngine: the traffic of the end-to-end suites (pusher-js
// and Laravel Echo subscribing, whispering, signing in; the Pusher SDK
// publishing and querying; another node relaying), written as the choices
// FuzzEngine's program reader makes. Each method appends the bytes one event
// reads, in the order it reads them.

type seedProgram []byte

func (p *seedProgram) add(b ...byte) *seedProgram { *p = append(*p, b...); return p }

// batch starts a batch of n events, dtMs after the previous one.
func (p *seedProgram) batch(dtMs int, n int) *seedProgram {
	return p.add(byte(dtMs), byte(dtMs>>8), byte(n-1))
}

func channelIndex(ch string) byte {
	for i, c := range fuzzChannels {
		if c == ch {
			return byte(i)
		}
	}
	panic("seed channel not in the pool: " + ch)
}

func userIndex(u string) byte {
	for i, c := range fuzzUsers {
		if c == u {
			return byte(i)
		}
	}
	panic("seed user not in the pool: " + u)
}

// open connects conn to app (0 or 1) as pusher-js does.
func (p *seedProgram) open(conn, app int) *seedProgram {
	return p.add(0, byte(conn-1), byte(app), 0, 2)
}

// send is a message of template kind from conn on channel ch; extra are the
// template's own choices.
func (p *seedProgram) send(conn int, ch string, kind byte, extra ...byte) *seedProgram {
	p.add(2, byte(conn-1), channelIndex(ch), kind)
	return p.add(extra...).add(0) // not mutated
}

func (p *seedProgram) subscribe(conn int, ch string) *seedProgram { return p.send(conn, ch, 1) }

func (p *seedProgram) subscribeSigned(conn int, ch string) *seedProgram { return p.send(conn, ch, 2) }

// subscribePresence joins ch as user u with user_info choice info.
func (p *seedProgram) subscribePresence(conn int, ch, u string, info byte) *seedProgram {
	return p.send(conn, ch, 2, info, userIndex(u))
}

func (p *seedProgram) whisper(conn int, ch string) *seedProgram { return p.send(conn, ch, 5, 0) }

func (p *seedProgram) signin(conn int, u string) *seedProgram {
	return p.send(conn, "b", 6, userIndex(u))
}

func (p *seedProgram) unsubscribe(conn int, ch string) *seedProgram { return p.send(conn, ch, 4) }

func (p *seedProgram) ping(conn int) *seedProgram { return p.send(conn, "b", 0) }

func (p *seedProgram) closed(conn int) *seedProgram { return p.add(7, byte(conn-1)) }

// http is a signed request of route kind to app on ch; extra are the route's own choices.
func (p *seedProgram) http(app int, ch string, route byte, extra ...byte) *seedProgram {
	p.add(8, byte(app), 1, channelIndex(ch), 0, route)
	return p.add(extra...).add(1, 2, 2) // body kept, timestamp fresh, signature valid
}

func (p *seedProgram) tick() *seedProgram { return p.add(12, 1) }

// digest asks the engine to relay its digests.
func (p *seedProgram) digest() *seedProgram { return p.add(15, 2) }

// replay feeds the relay record kept at index i (modulo those kept) back as node's.
func (p *seedProgram) replay(node int, i byte) *seedProgram {
	return p.add(11, byte(node-1), 0, 5, i, 1)
}

func engineSeeds() [][]byte {
	var seeds []seedProgram
	var s seedProgram

	// Echo: public and private channels, a whisper, an HTTP publish.
	s = nil
	s.batch(0, 2).open(1, 0).open(2, 0)
	s.batch(10, 4).subscribe(1, "public-a").subscribeSigned(1, "private-a").subscribeSigned(2, "private-a").ping(2)
	s.batch(10, 2).whisper(1, "private-a").http(0, "private-a", 0, 0, 1, 0)
	s.batch(10, 3).http(0, "public-a", 2, 5).unsubscribe(1, "private-a").closed(2)
	seeds = append(seeds, s)

	// Presence: two users, one of them twice, rosters and user counts, leaving.
	s = nil
	s.batch(0, 3).open(1, 0).open(2, 0).open(3, 1)
	s.batch(5, 3).subscribePresence(1, "presence-a", "u1", 0).subscribePresence(2, "presence-a", "u2", 1).subscribePresence(3, "presence-a", "7", 0)
	s.batch(5, 3).http(0, "presence-a", 6).http(0, "presence-a", 5, 1).http(0, "presence-a", 4, 0)
	s.batch(5, 2).closed(1).tick()
	seeds = append(seeds, s)

	// Sign-in, server-to-user delivery, terminate_connections.
	s = nil
	s.batch(0, 2).open(1, 0).open(2, 0)
	s.batch(5, 3).signin(1, "u1").subscribe(1, "#server-to-user-u1").subscribeSigned(2, "private-b")
	s.batch(5, 2).http(0, "#server-to-user-u1", 0, 0, 1, 0).http(0, "b", 7, 0)
	s.batch(60_000, 1).tick()
	seeds = append(seeds, s)

	// Cache channels, batches and the channel list of the second app.
	s = nil
	s.batch(0, 2).open(1, 1).open(2, 1)
	s.batch(5, 2).http(1, "cache-a", 0, 0, 2, 0).subscribe(1, "cache-a")
	s.batch(5, 3).http(1, "cache-a", 3, 3).subscribe(2, "cache-a").http(1, "b", 4, 1)
	seeds = append(seeds, s)

	// Anti-entropy: a member who leaves and a signed-in user; the digest
	// (relay record 5: member_added, count, user online, member_removed,
	// count, digest) replayed as another node's brings a Want (6), which
	// brings the State of the users' bucket (7), applied as that node's.
	s = nil
	s.batch(0, 2).open(1, 0).open(2, 0)
	s.batch(5, 2).subscribePresence(1, "presence-a", "u1", 0).signin(2, "u2")
	s.batch(5, 2).closed(1).digest()
	s.batch(5, 1).replay(2, 5)
	s.batch(5, 1).replay(3, 6)
	s.batch(5, 1).replay(2, 7)
	seeds = append(seeds, s)

	out := make([][]byte, 0, len(seeds)+2)
	for _, s := range seeds {
		out = append(out, []byte(s))
	}
	// Raw bytes, as mutation starting points.
	out = append(out, []byte("\x00\x00\x05\x00\x00\x00\x00\x02\x02\x00\x09\x40{\"event\":\"pusher:subscribe\",\"data\":{\"channel\":\"a\\u0000b\"}}"))
	out = append(out, []byte{})
	return out
}
