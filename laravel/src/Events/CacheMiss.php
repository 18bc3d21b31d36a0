<?php

namespace Pogo\WebSocket\Events;

/** A client subscribed to a cache channel that holds no event (webhook "cache_miss"). */
final class CacheMiss extends WebhookEvent
{
}
