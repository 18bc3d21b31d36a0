<?php

namespace Pogo\WebSocket\Broadcasting;

use Illuminate\Broadcasting\BroadcastException;
use Pogo\WebSocket\Pusher\Signer;

/**
 * Publishes through the server's signed Pusher HTTP API
 * (POST /apps/{app_id}/events), for PHP outside the FrankenPHP server: queue
 * workers and commands on the CLI, PHP-FPM, a FrankenPHP without the module.
 */
final class HttpPublisher implements Publisher
{
    private Signer $signer;

    public function __construct(
        private string $appId,
        string $key,
        string $secret,
        private string $baseUrl,
        private float $timeout = 5.0,
    ) {
        $this->signer = new Signer($key, $secret);
    }

    public function publish(array $channels, string $event, string $data, ?string $socketId): void
    {
        $body = ['name' => $event, 'channels' => array_values($channels), 'data' => $data];
        if ($socketId !== null && $socketId !== '') {
            $body['socket_id'] = $socketId;
        }
        $body = json_encode($body, JSON_THROW_ON_ERROR | JSON_UNESCAPED_SLASHES);
        $path = '/apps/'.rawurlencode($this->appId).'/events';
        $url = rtrim($this->baseUrl, '/').$path.'?'.http_build_query($this->signer->signedQuery('POST', $path, $body));

        [$status, $answer] = $this->post($url, $body);
        if ($status !== 200) {
            throw new BroadcastException(sprintf(
                'Pogo WebSocket refused the event [%s]: HTTP %d %s', $event, $status, trim($answer),
            ), $status);
        }
    }

    /** @return array{int, string} the status and body of the answer */
    private function post(string $url, string $body): array
    {
        $context = stream_context_create(['http' => [
            'method' => 'POST',
            'header' => "Content-Type: application/json\r\nConnection: close\r\nX-Pusher-Library: pogo-websocket-php\r\n",
            'content' => $body,
            'timeout' => $this->timeout,
            'ignore_errors' => true, // read the body of 4xx and 5xx answers
            'protocol_version' => 1.1,
            'follow_location' => 0,
        ]]);
        $error = null;
        set_error_handler(function (int $no, string $message) use (&$error): bool {
            $error = $message;

            return true;
        });
        try {
            $answer = file_get_contents($url, false, $context);
            $headers = function_exists('http_get_last_response_headers')
                ? http_get_last_response_headers()
                : ($http_response_header ?? null);
        } finally {
            restore_error_handler();
        }
        if ($answer === false || empty($headers) || ! preg_match('#^HTTP/\S+ (\d{3})#', $headers[0], $m)) {
            throw new BroadcastException('Pogo WebSocket is unreachable at '.$this->baseUrl.': '.($error ?? 'no answer'));
        }

        return [(int) $m[1], $answer];
    }
}
