<?php

namespace Pogo\WebSocket\Events;

/**
 * One event of a Pusher webhook the server sent to POST /pogo/webhook,
 * dispatched as a Laravel event of the subclass named after it.
 */
abstract class WebhookEvent
{
    /** Pusher's event names and the classes they become. */
    public const CLASSES = [
        'channel_occupied' => ChannelOccupied::class,
        'channel_vacated' => ChannelVacated::class,
        'member_added' => MemberAdded::class,
        'member_removed' => MemberRemoved::class,
        'client_event' => ClientEventReceived::class,
        'cache_miss' => CacheMiss::class,
        'subscription_count' => SubscriptionCountChanged::class,
    ];

    /**
     * @param  string  $channel  the channel the event is about
     * @param  int  $timeMs  the webhook's time_ms: when the server sent it, in Unix milliseconds
     * @param  array<string, mixed>  $payload  the event as the server sent it
     */
    final public function __construct(
        public readonly string $channel,
        public readonly int $timeMs,
        public readonly array $payload,
    ) {
    }

    /**
     * The Laravel event for one entry of a webhook's "events", or null for a
     * name this package does not know or an entry without a channel.
     *
     * @param  array<string, mixed>  $event
     */
    public static function fromPusher(array $event, int $timeMs): ?self
    {
        $class = self::CLASSES[$event['name'] ?? ''] ?? null;
        if ($class === null || ! is_string($event['channel'] ?? null)) {
            return null;
        }

        return new $class($event['channel'], $timeMs, $event);
    }
}
