<?php

namespace Pogo\WebSocket\Events;

/** A user left a presence channel (webhook "member_removed"). */
final class MemberRemoved extends WebhookEvent
{
    /** The id of the user who left. */
    public function userId(): string
    {
        return (string) ($this->payload['user_id'] ?? '');
    }
}
