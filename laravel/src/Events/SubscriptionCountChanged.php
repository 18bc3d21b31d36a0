<?php

namespace Pogo\WebSocket\Events;

/** The number of connections subscribed to a channel changed (webhook "subscription_count"). */
final class SubscriptionCountChanged extends WebhookEvent
{
    /** The channel's new subscription count. */
    public function subscriptionCount(): int
    {
        return (int) ($this->payload['subscription_count'] ?? 0);
    }
}
