<?php

namespace Pogo\WebSocket\Events;

/** A client sent a client event on a private or presence channel (webhook "client_event"). */
final class ClientEventReceived extends WebhookEvent
{
    /** The client event's name (client-...). */
    public function event(): string
    {
        return (string) ($this->payload['event'] ?? '');
    }

    /** The client event's data as the client sent it. */
    public function data(): mixed
    {
        return $this->payload['data'] ?? null;
    }

    /** The socket id of the sender. */
    public function socketId(): string
    {
        return (string) ($this->payload['socket_id'] ?? '');
    }

    /** The user id of the sender on a presence channel, null elsewhere. */
    public function userId(): ?string
    {
        return isset($this->payload['user_id']) ? (string) $this->payload['user_id'] : null;
    }
}
