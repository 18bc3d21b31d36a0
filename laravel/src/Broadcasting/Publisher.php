<?php

namespace Pogo\WebSocket\Broadcasting;

use Illuminate\Broadcasting\BroadcastException;

/** Carries an event to the WebSocket server. */
interface Publisher
{
    /**
     * Publishes $event with the JSON $data to at most 100 channels, leaving out
     * the connection $socketId.
     *
     * @param  list<string>  $channels
     *
     * @throws BroadcastException when the server does not accept the event
     */
    public function publish(array $channels, string $event, string $data, ?string $socketId): void;
}
