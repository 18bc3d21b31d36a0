<?php

// Pogo WebSocket's Laravel settings. The server connection itself (app_id,
// secret, key, host, port, scheme) is the "pogo" connection of
// config/broadcasting.php.

return [
    // The broadcasting connection whose secret signs /pogo/auth and
    // /pogo/user-auth answers; null: the default connection.
    'connection' => env('POGO_BROADCAST_CONNECTION'),

    // Where the package's routes live, and the middleware of the two auth
    // routes ("web", as Broadcast::routes(), for the session's user).
    'routes' => [
        'auth' => '/pogo/auth',
        'user_auth' => '/pogo/user-auth',
        'webhook' => '/pogo/webhook',
        'middleware' => ['web'],
    ],

    // Signs the server's webhooks (X-Pusher-Signature); unset: every webhook is refused.
    'webhook_secret' => env('POGO_WEBHOOK_SECRET'),
];
