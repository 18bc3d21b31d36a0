<?php

namespace Pogo\WebSocket\Broadcasting;

/**
 * The return codes of pogo_websocket_publish() and
 * pogo_websocket_broadcast_multi(), with the meaning the documentation gives.
 */
final class PublishCode
{
    public const OK = 0;

    public const MEANINGS = [
        1 => 'hub missing',
        2 => 'channel too long',
        3 => 'event too long',
        4 => 'payload too large',
        5 => 'invalid payload JSON',
        6 => 'broker publish failed',
        7 => 'invalid multi-channel JSON',
        8 => 'broker queue full',
        9 => 'shard queue full',
        10 => 'invalid socket id',
    ];

    /** The documented meaning of $code. */
    public static function meaning(int $code): string
    {
        return self::MEANINGS[$code] ?? 'unknown status';
    }
}
