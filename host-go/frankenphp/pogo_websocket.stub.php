<?php

/** @generate-class-entries */

/**
 * Return codes of pogo_websocket_publish() and pogo_websocket_broadcast_multi();
 * the same numbers as host-go/frankenphp/internal/bridge.
 */

/**
 * @var int
 * @cvalue POGO_WEBSOCKET_OK
 */
const POGO_WEBSOCKET_OK = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_HUB_MISSING
 */
const POGO_WEBSOCKET_HUB_MISSING = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_CHANNEL_INVALID
 */
const POGO_WEBSOCKET_CHANNEL_INVALID = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_EVENT_INVALID
 */
const POGO_WEBSOCKET_EVENT_INVALID = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_PAYLOAD_TOO_LARGE
 */
const POGO_WEBSOCKET_PAYLOAD_TOO_LARGE = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_PAYLOAD_INVALID
 */
const POGO_WEBSOCKET_PAYLOAD_INVALID = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_BROKER_PUBLISH_FAILED
 */
const POGO_WEBSOCKET_BROKER_PUBLISH_FAILED = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_CHANNELS_INVALID
 */
const POGO_WEBSOCKET_CHANNELS_INVALID = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_BROKER_QUEUE_FULL
 */
const POGO_WEBSOCKET_BROKER_QUEUE_FULL = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_SHARD_QUEUE_FULL
 */
const POGO_WEBSOCKET_SHARD_QUEUE_FULL = UNKNOWN;
/**
 * @var int
 * @cvalue POGO_WEBSOCKET_SOCKET_ID_INVALID
 */
const POGO_WEBSOCKET_SOCKET_ID_INVALID = UNKNOWN;

/**
 * Publishes an event to one channel of an app served by this server.
 * $data must be JSON. $socketId, when given, is a connection's socket id
 * ("123.456", pusher-js's socket_id) that does not receive the event, like the
 * HTTP API's socket_id (Laravel's toOthers()); null or "" leaves out nobody.
 * Returns POGO_WEBSOCKET_OK once the event is queued for delivery, another
 * POGO_WEBSOCKET_* code otherwise (POGO_WEBSOCKET_SOCKET_ID_INVALID for a
 * $socketId that is not a socket id); never waits.
 */
function pogo_websocket_publish(string $appId, string $channel, string $event, string $data, ?string $socketId = null): int {}

/**
 * Publishes an event to several channels at once; $channels is a JSON array
 * of names. $socketId and the return codes are as for pogo_websocket_publish().
 */
function pogo_websocket_broadcast_multi(string $appId, string $channels, string $event, string $data, ?string $socketId = null): int {}
