<?php

namespace Pogo\WebSocket\Broadcasting;

use Illuminate\Broadcasting\BroadcastException;

/**
 * Publishes in process through the PHP functions of the pogo_websocket
 * FrankenPHP module: pogo_websocket_publish() for one channel,
 * pogo_websocket_broadcast_multi() for several.
 */
final class NativePublisher implements Publisher
{
    /** @var callable */
    private $publish;

    /** @var callable */
    private $broadcastMulti;

    /**
     * The functions default to the module's; tests pass stand-ins with the
     * same signature.
     */
    public function __construct(
        private string $appId,
        ?callable $publish = null,
        ?callable $broadcastMulti = null,
    ) {
        $this->publish = $publish ?? 'pogo_websocket_publish';
        $this->broadcastMulti = $broadcastMulti ?? 'pogo_websocket_broadcast_multi';
    }

    /** Whether this PHP serves requests inside a FrankenPHP built with the module. */
    public static function available(): bool
    {
        // The module's functions also exist in `frankenphp php-cli`, where no
        // server runs: the CLI publishes over HTTP.
        return PHP_SAPI !== 'cli' && function_exists('pogo_websocket_publish') && function_exists('pogo_websocket_broadcast_multi');
    }

    public function publish(array $channels, string $event, string $data, ?string $socketId): void
    {
        $code = count($channels) === 1
            ? ($this->publish)($this->appId, $channels[0], $event, $data, $socketId)
            : ($this->broadcastMulti)($this->appId, json_encode(array_values($channels), JSON_THROW_ON_ERROR), $event, $data, $socketId);

        if ($code !== PublishCode::OK) {
            throw new BroadcastException(sprintf(
                'Pogo WebSocket refused the event [%s]: %s (code %d).', $event, PublishCode::meaning($code), $code,
            ), $code);
        }
    }
}
