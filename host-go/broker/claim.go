package broker

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// claimTTL is how long Redis remembers the last webhook state of a channel
// or member. Two nodes race for a transition within the time a relay takes
// to cross Redis (milliseconds); the key only has to outlive that, and
// expiring it bounds Redis memory.
const claimTTL = time.Minute

// Claim records state as the last webhook state sent for key, shared by
// every node with the same prefix, and reports whether this call changed it
// (webhook.Claimer): of two nodes that both see a channel become occupied,
// only the one whose SET changed the state sends channel_occupied. It is
// one atomic SET ... GET.
func (r *Redis) Claim(ctx context.Context, key, state string) (bool, error) {
	old, err := r.client.SetArgs(ctx, r.cfg.Prefix+":"+key, state, redis.SetArgs{Get: true, TTL: claimTTL}).Result()
	if errors.Is(err, redis.Nil) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("broker: claiming %q: %w", key, err)
	}
	return old != state, nil
}
