// Package webhook delivers Pusher webhooks: the events the engine decides
// on (channel_occupied, channel_vacated, member_added, member_removed,
// client_event, cache_miss, subscription_count) are POSTed, in batches, to
// the URLs configured for their app, as
//
//	{"time_ms":1327078148132,"events":[{"name":"channel_occupied","channel":"x"},...]}
//
// with the headers X-Pusher-Key (the app key) and X-Pusher-Signature (hex
// HMAC-SHA256 of the body, keyed by the webhook secret).
//
// # Delivery
//
// Add never blocks its caller (the engine goroutine): events go through a
// bounded intake queue to one scheduler goroutine, then to one bounded queue
// and one goroutine per URL, so a slow or dead receiver holds up only its
// own queue, and a full queue drops events, counted in
// pogo_websocket_webhook_dropped_total{reason}.
//
// channel_vacated and member_removed wait for the hold-back window (3 s):
// when the same channel is occupied again, or the same user added again,
// within it, neither event is sent, so reconnect flapping sends nothing.
//
// A request that fails (timeout, refused connection, 5xx, 408, 429) is
// retried with exponential backoff a bounded number of times; other 4xx
// answers are not retried. The events of a request that finally fails are
// dropped and counted.
//
// # Nodes
//
// With a broker, every node's engine sees the cluster-wide transitions. An
// arrival (channel_occupied, member_added) is sent (Event.Local) only by
// the node whose own subscribe caused it; the others use it to cancel a
// held-back departure. A departure is sent by every node that sees it, since
// two nodes' last subscribers may leave at once, each seeing the other's
// departure as the last, or a node may die. Two nodes can also both cause a
// 0→1 at the same moment. So Config.Claim records the last state sent for
// the channel (or member) in Redis, and only the node that changes it sends
// the webhook.
package webhook
