<?php

// The auth worker of Pogo WebSocket (pogo/websocket), published by
// `php artisan pogo:ws-install`. The pogo_websocket Caddy handler runs it as
// its pool of FrankenPHP workers (Caddyfile: auth_script public/websocket-worker.php).
// It boots this Laravel application once, then authorizes the private and
// presence subscribes that arrive without "auth" with routes/channels.php and
// the WebSocket request's cookies, in process.

use Illuminate\Http\Request;
use Pogo\WebSocket\AuthWorker;

require __DIR__.'/../vendor/autoload.php';

$worker = new AuthWorker(require __DIR__.'/../bootstrap/app.php');

while (frankenphp_handle_request(function () use ($worker): void {
    $worker->handle(Request::capture())->send();
})) {
    gc_collect_cycles();
}
