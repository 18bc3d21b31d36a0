<?php

/** @generate-class-entries */

/**
 * Publishes an event to one channel of an app served by this server.
 * Returns 0 when the event was accepted for delivery, or an error code.
 */
function pogo_websocket_publish(string $appId, string $channel, string $event, string $data): int {}

/**
 * Publishes an event to several channels at once; $channels is a JSON array of names.
 * Returns 0 when the event was accepted for delivery, or an error code.
 */
function pogo_websocket_broadcast_multi(string $appId, string $channels, string $event, string $data): int {}
