// Package hub runs one protocol engine and the WebSocket connections it
// serves: it carries bytes and time, and leaves every protocol decision to
// the engine.
//
// # Design
//
// A Hub owns one engine instance, driven by one goroutine. Producers encode
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
//     queue.mu (lockAlways, lockOrFail, lockOrWait ... unlock); the engine
//     goroutine takes the batch with swap, under the same lock.
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
// The engine is single-threaded by nature (its state is one linear memory),
// so one goroutine runs it, and it only runs the engine: reads, frame
// parsing, UTF-8 checks, writes and their syscalls happen in the connection
// readers and writers, which the Go scheduler spreads over every core. The engine
// goroutine's share is the protocol logic itself, amortized per batch. When
// one core is no longer enough for the engine, the next step is N hubs
// (engine shards) keyed by app, each with its own goroutine.
package hub
