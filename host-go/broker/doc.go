// Package broker shares the events published on one node with the other
// nodes that serve the same apps, over Redis Pub/Sub.
//
// The engine decides what to share: it hands every event published on this
// node (HTTP API, native publish, client event), every terminate_connections
// and every presence arrival or departure to the host as a relay record. A
// Redis broker publishes each record on the Redis channel of its app,
// `<prefix>:<app id>`, and hands the records other nodes publish there back
// to the hub, which feeds them to its engine. Delivery between nodes is at
// most once, like Redis Pub/Sub itself: records sent while Redis is
// unreachable are lost, and counted.
//
// Nodes also talk on `<prefix>#nodes`: each sends a heartbeat every half
// ping interval, and a node that was not heard from for two and a half
// intervals is gone (its presence members leave): checked every quarter
// interval, a node killed without a goodbye is gone within three intervals,
// the three seconds README.md promises with the default interval. A node whose subscription starts, or starts
// again after an outage, forgets the others' members and asks every node to
// relay its presence members again; they forget what it relayed before, and
// it relays its own.
//
// Redis Pub/Sub may lose any message, so every digest interval the engine
// relays a digest of its subscription counts, presence members and
// signed-in users as one
// more record per app; a node that holds something else for the sender asks
// it, by record, for the part that differs, and the sender's answer replaces
// it (assembly/protocol/entropy.ts). The broker only carries these records
// and keeps the timer.
//
// A message on Redis is one kind byte (record, heartbeat, sync request), the
// sending node's 8-byte id (a node skips its own messages), the index of the
// engine shard that sent it (big-endian u16; 0xffff: the whole node) and,
// for a record, the relay record. Each shard of a node is a node of its own
// to the others (its own number, its own members and counts), and a node
// that falls silent takes all its shards with it. A shard whose engine
// restarted empty sends a sync request for itself alone: the others forget
// what it relayed and relay all they have again (package hub).
//
// For fault-injection tests, the environment variable
// POGO_WEBSOCKET_FAULT_DROP_RELAY=<kind>:<n> makes the broker drop the next
// n relay records of that kind (the record's first byte, 4 for a
// member_removed) that this node sends, as if Redis had lost them; they are
// counted as broker_dropped_messages_total{reason="fault_injection"}. Never
// set it in production.
package broker
