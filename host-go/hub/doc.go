// Package hub runs the protocol engine, in one or more shards, and the
// WebSocket connections it serves: it carries bytes and time, and leaves
// every protocol decision to the engine.
//
// # Design
//
// A Hub owns one engine instance, driven by one goroutine: one shard (see
// Shards for several; what follows describes each). Producers encode
// events into a shared batch under a lock: connection readers (OPEN, MESSAGE,
// ACTIVITY, TOO_LARGE, CLOSED), HTTP handlers (HTTP), Publish (PUBLISH) and a
// one-second ticker (TICK). The engine goroutine swaps the batch for an empty
// one, stamps the clock, hands it to the engine in one call and dispatches
// the actions: frames go to per-connection queues, HTTP answers to their
// waiting handlers. While it runs, the next batch fills up, so load turns
// into larger batches rather than more calls.
//
// Connection ids are dense slots (1, 2, ...). A slot is reused only after
// the batch carrying the connection's CLOSED event has been processed and
// its actions dispatched.
//
// On Linux a connection is read only while bytes arrive (reader.go,
// poller_linux.go): its socket is registered with the process's epoll
// instance with EPOLLONESHOT; when it is readable the poller starts a
// short-lived reader goroutine, which reads and parses whole frames with the
// same frame reader as before (a frame still arriving is waited for in Go's
// netpoller), and at a frame boundary with nothing left re-arms the socket
// and returns, dropping its buffer. Backpressure keeps its form: a reader
// waiting for room in the engine's batch (lockOrWait) has not re-armed, so
// nothing more is read from that socket until it has queued its message.
// Closing the socket wakes the reader, which reports CLOSED, exactly once.
// Over TLS, crypto/tls may hold whole records read along with earlier ones:
// at a frame boundary the reader reads with a past deadline, which returns
// those and never touches the socket, before it re-arms. Elsewhere, and for
// sockets without a file descriptor, a goroutine per connection reads, parked
// in a shallow frame on a two-byte read with no buffer. The writer goroutine
// exists only while frames are queued (writev, with a write deadline).
//
// The epoll loop is our own (golang.org/x/sys/unix, about 200 lines) rather
// than gobwas/ws's netpoll or nbio: the frame reader, its limits, UTF-8
// checks and close codes stay as they are (the hostile catalog and
// FuzzFrameReader cover them), Caddy's hijacked net.Conn and *tls.Conn are
// used as they come, and nothing else changes hands. Measured on 2 cores
// with 18,000 subscribed connections (bench/README.md, "Idle connections
// without a goroutine"): an idle connection costs about 3.9 KB of RSS over
// ws:// (7.1 KB with a goroutine each) and 16 KB over wss:// (20.6 KB). What
// remains over ws:// is the socket's Go state (net.TCPConn, its netFD and
// poll descriptor), conn, its table slot and epoll registration, the
// engine's per-connection memory, and the garbage collector's headroom on
// all of it (GOGC=50 in the environment brings ws:// to 2.8 KB). Over wss:// the heap profile shows crypto/tls's state: the
// AES-GCM contexts (1.5 KB), the tls.Conn (0.8 KB), and the record and
// handshake buffers grown for the ClientHello and kept for the connection's
// life (1.5 + 1.25 KB), which crypto/tls offers no way to release.
//
// A broadcast frame is copied out of the engine once and the same slice is
// queued on every recipient.
//
// Every engine call has a deadline (Config.EngineTimeout). A call that
// overruns it, or traps, costs its batch and the engine instance: a fresh
// one replaces it, every connection is closed with 4200 so that clients
// reconnect to it, and the broker tells the other nodes to treat this node
// as a new one (watchdog.go). Shutdown is bounded by Config.ShutdownTimeout.
//
// # State and who may touch it
//
//   - The engine (its linear memory: channels, presence, apps) and the spare
//     batch: the engine goroutine (run, process, dispatch, and the watchdog's
//     recoverEngine, which replaces it) only; New configures the apps before
//     it starts and Shutdown closes the engine after it has returned.
//   - The batch being filled (queue.cur) and conn.gone: any producer, under
//     queue.mu (lockAlways, lockOrFail, lockOrRefuse, lockOrWait,
//     lockOrWaitRefuse ... unlock), a sibling shard's engine goroutine among
//     them (its relays); the engine goroutine takes the batch with swap,
//     under the same lock. Each shard has its own queue, table and requests.
//   - The shards slice, openConns and quotas are shared by the shards of a
//     hub: the slice and the quota table are fixed by New, the counts are
//     atomics.
//   - The connection table (table): ServeWebSocket adds to it under its
//     lock; only the engine goroutine frees a slot, after the batch with the
//     CLOSED has been dispatched.
//   - A connection's outbound queue and flags (conn.mu): the engine
//     goroutine (and the reader, for pongs) queues frames, the connection's
//     writer drains them, anyone may close it. The socket's read side, the
//     frame reader and read buffers belong to the reader that holds
//     conn.reading (one at a time; on Linux a new goroutine at each wake-up).
//   - The poller's table of watched connections: its mutex.
//   - HTTP requests waiting for an answer (requests): their handlers add and
//     drop them, the engine goroutine answers, under requests.mu.
//   - The Authorizer (an atomic pointer), openConns, stopping and lastBatch
//     are atomics any goroutine reads; life is write-locked only by Shutdown,
//     so that no WebSocket is accepted once it has begun.
//   - The shutdown channels of Hub are closed once each, by Shutdown, except
//     shutdownDispatched (the engine goroutine) and engineStopped (run).
//
// # Other nodes
//
// With a Broker (package broker), the engine hands every event published
// here, every terminate_connections, presence arrival or departure and
// change of a channel's subscription count to the hub as a RELAY action,
// which the broker sends to the other nodes; theirs come back through the
// broker as REMOTE events in the batch, with NODE_GONE when a node stops
// answering and SYNC when one needs everyone's counts and members, and
// DIGEST every digest interval, whose RELAY lets the others find and repair
// what Redis lost. While the broker cannot carry events, native publishes
// and HTTP API POSTs are refused with ErrBroker rather than delivered on
// this node only.
//
// # Webhooks
//
// For apps with engine.OptionWebhooks the engine reports webhook events as
// WEBHOOK actions; the hub hands them to its Webhooks (package webhook),
// which queues them without blocking and delivers them from its own
// goroutines, so that a slow receiver never holds up the engine.
//
// # Cores
//
// An engine instance is single-threaded by nature (its state is one linear
// memory), so one goroutine runs it, and it only runs the engine: reads,
// frame parsing, UTF-8 checks, writes and their syscalls happen in the
// connection readers and writers, which the Go scheduler spreads over every core. The
// engine goroutine's share is the protocol logic itself, amortized per
// batch. When one core is no longer enough for the engine, Config.Shards
// runs several instances, each on its own goroutine, so that the protocol
// logic uses several cores too.
//
// # Shards
//
// With Config.Shards N (Caddyfile num_shards), New instantiates the engine
// N times (the module is compiled once) and starts N engine goroutines, each
// with its own event queue, connection table and pending HTTP requests:
// each shard is a Hub, and shards[0] is the one New returns. A new
// connection goes to the shard with the fewest connections and stays there;
// an HTTP API request goes to the next shard in turn (its caller waits for
// the answer, so a publisher's requests are processed in order), a native
// Publish to the shard its channel list hashes to (it returns before the
// engine has it: one shard per channel list keeps a publisher's events to a
// channel in order).
// With N = 1 nothing below happens: no relay, no claim, the hub is the one
// engine it always was.
//
// The shards of a node are kept exact by the engine's cluster machinery:
// each shard is a node to its siblings. Its engine relays (RELAY actions)
// what the others must know: events accepted here (HTTP API, native publish,
// client events), terminate_connections, presence arrivals and departures,
// and every change of a channel's subscription count on this shard. The hub
// hands each record to every sibling's queue as a REMOTE event from the
// shard's number (siblingNode: the top of the u32 range, counting down, while
// the broker numbers other nodes' shards from 1 up). Each engine then keeps
// its siblings' counts and members as it keeps other nodes', so presence
// rosters, member events, subscription counts, `occupied`, the HTTP API's
// queries, socket_id exclusion (a socket id names its connection in full, and
// only the shard holding it matches it), cache channels (each shard caches
// what it delivers) and terminate_connections are those of the whole node.
// The one per-shard count, GET /apps/{id}/connections, is asked of every
// shard and summed; an app's max_connections quota is counted across the
// shards by the hub (capacity.go).
//
// Relay records reach the siblings reliably: a sibling's queue takes them
// whatever its size (lockAlways), never dropped (its counts would stay wrong)
// and never waited for (two shards relaying to each other would deadlock).
// The growth is bounded by the relays of the batches the siblings process
// meanwhile, a few small records per event. They are handed to the siblings
// before any frame or HTTP answer of their batch (relayAll): a client told it
// subscribed, or a publisher told its event was accepted, finds the change on
// whatever shard it asks next, since each shard reads its queue in order. A
// shard's watchdog recovery (watchdog.go) is a rejoin: its siblings get
// NODE_GONE for it (what it relayed leaves) and SYNC (they relay all they
// have again, so the fresh engine learns it).
//
// With a Broker, each shard is also a node of its own to the other nodes:
// records go out with the shard's index, a node numbers every shard of every
// other node, a node that falls silent takes all its shards with it, records
// of this node's own shards coming back through Redis are skipped (the
// siblings have them already), and REMOTE, NODE_GONE, SYNC and DIGEST from the
// broker go to every shard. Webhooks: every shard's engine sees the node's
// transitions, as nodes see each other's, so the webhook sender's Claim
// (Redis with a broker; without one, an in-process webhook.MemoryClaims)
// makes each fire once.
//
// Cost per operation, with N shards:
//   - a subscribe or unsubscribe that changes a channel's count on its
//     shard: one relay record (a few dozen bytes) into each of the N-1
//     siblings' batches, each applying it in a map update; presence adds one
//     record per arrival or departure. This is O(N) in small records, and
//     done by the engines in batches, not per connection.
//   - a publish: framed once by each shard that has subscribers, and queued
//     on its recipients as one shared slice; the shard that accepts it relays
//     it once to each sibling, and a sibling without subscribers only looks
//     the channel up. A publish is never framed per subscriber.
//   - a message, ping or client event of a connection: its shard only (a
//     client event is relayed like a publish).
//   - an HTTP query: one shard (the connections count: all of them).
//
// Metrics are sums over the shards: connections, subscriptions and engine
// memory are the node's totals; messages_total and fanout_size count one
// broadcast per shard with recipients. Health is alive when every shard's
// engine finished a batch in the last five seconds.
//
// Config.ShardQueueSize bounds each shard's batch in events (beside
// QueueLimit's bytes): a native publish is refused with ErrQueueFull (PHP
// code 9), an HTTP API request with ErrQueueFull (503), and a connection's
// messages wait for room. Relays, OPEN, CLOSED and the other lockAlways
// events are accepted whatever the count.
//
// The default number of shards is GOMAXPROCS, at most 8 (DefaultShards):
// the engine goroutines can use every core the scheduler has, while the
// O(N) cross-shard bookkeeping above stays small.
package hub
