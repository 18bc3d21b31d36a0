<?php

namespace Pogo\WebSocket\Pusher;

/**
 * Pusher's signatures, computed as pusher-http-php computes them: the signed
 * query of the HTTP API, channel and user authorization, and webhooks.
 */
final class Signer
{
    public function __construct(
        private string $key,
        private string $secret,
    ) {
    }

    /**
     * The query parameters that sign an HTTP API request: auth_key,
     * auth_timestamp, auth_version, body_md5 (when there is a body) and
     * auth_signature, plus the given parameters.
     *
     * @param  array<string, string>  $params
     * @return array<string, string>
     */
    public function signedQuery(string $method, string $path, string $body = '', array $params = [], ?int $timestamp = null): array
    {
        $params['auth_key'] = $this->key;
        $params['auth_timestamp'] = (string) ($timestamp ?? time());
        $params['auth_version'] = '1.0';
        if ($body !== '') {
            $params['body_md5'] = md5($body);
        }
        $params = array_change_key_case($params, CASE_LOWER);
        ksort($params, SORT_STRING);

        // Pusher signs the parameters joined unescaped, not the URL's query string.
        $pairs = [];
        foreach ($params as $name => $value) {
            $pairs[] = $name.'='.$value;
        }
        $params['auth_signature'] = $this->hmac(strtoupper($method)."\n".$path."\n".implode('&', $pairs));

        return $params;
    }

    /** The "auth" of a private channel subscription: key:hmac(socket_id:channel). */
    public function channelAuth(string $socketId, string $channel, ?string $channelData = null): string
    {
        $text = $socketId.':'.$channel.($channelData === null ? '' : ':'.$channelData);

        return $this->key.':'.$this->hmac($text);
    }

    /** The "auth" of a pusher:signin: key:hmac(socket_id::user::user_data). */
    public function userAuth(string $socketId, string $userData): string
    {
        return $this->key.':'.$this->hmac($socketId.'::user::'.$userData);
    }

    /** Whether $signature is the X-Pusher-Signature of the webhook body $body. */
    public function verifiesWebhook(string $body, string $signature): bool
    {
        return $this->secret !== '' && hash_equals($this->hmac($body), strtolower($signature));
    }

    /** Whether $socketId has the shape of a Pusher socket id (digits.digits). */
    public static function isSocketId(string $socketId): bool
    {
        return strlen($socketId) <= 64 && preg_match('/\A\d+\.\d+\z/', $socketId) === 1;
    }

    private function hmac(string $text): string
    {
        return hash_hmac('sha256', $text, $this->secret);
    }
}
