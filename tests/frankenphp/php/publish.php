<?php

// Runs the publish calls POSTed as a JSON list and answers with their return codes.
// Each call is ["publish", appId, channel, event, data] or ["multi", appId, channelsJson, event, data],
// optionally followed by a repeat count (the call runs that many times, one code each) and a
// socket id to leave out (the fifth argument, passed only when present).

$calls = json_decode(file_get_contents('php://input'), true, 512, JSON_THROW_ON_ERROR);
$codes = [];
foreach ($calls as $call) {
    [$function, $appId, $target, $event, $data] = $call;
    $repeat = $call[5] ?? 1;
    $args = array_key_exists(6, $call) ? [$appId, $target, $event, $data, $call[6]] : [$appId, $target, $event, $data];
    for ($i = 0; $i < $repeat; $i++) {
        $codes[] = $function === 'multi' ? pogo_websocket_broadcast_multi(...$args) : pogo_websocket_publish(...$args);
    }
}

header('Content-Type: application/json');
echo json_encode($codes);
