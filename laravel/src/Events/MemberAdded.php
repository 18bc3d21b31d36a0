<?php

namespace Pogo\WebSocket\Events;

/** A user joined a presence channel (webhook "member_added"). */
final class MemberAdded extends WebhookEvent
{
    /** The id of the user who joined. */
    public function userId(): string
    {
        return (string) ($this->payload['user_id'] ?? '');
    }
}
