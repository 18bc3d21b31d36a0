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
// Each connection has a reader goroutine, started after the upgrade so that
// the HTTP handler returns and net/http's buffers are released, and a writer
// goroutine that exists only while frames are queued (writev, with a write
// deadline). An idle connection holds its socket, a reader parked in a
// shallow frame on a two-byte read (read buffers are pooled and taken only
// while a frame arrives; the shallow frame lets the GC shrink the stack back
// to 2 KiB), and a few hundred bytes of state: about 6 KB of process memory
// per idle connection, measured with 10,000 subscribed connections over plain
// TCP. A broadcast frame is copied out of the engine once and the same slice
// is queued on every recipient.
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
//     writer drains them, anyone may close it. The socket's read side and read buffers belong to its
//     reader goroutine.
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
// goroutines, which the Go scheduler spreads over every core. The engine
// goroutine's share is the protocol logic itself, amortized per batch. When
// one core is no longer enough for the engine, the next step is N hubs
// (engine shards) keyed by app, each with its own goroutine.
package hub
