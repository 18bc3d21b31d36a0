<?php

// An auth worker for authworkers_test.go: its message says how to misbehave.

while (frankenphp_handle_request(function (array $message) {
    switch ($message['mode']) {
        case 'sign':
            $signature = hash_hmac('sha256', $message['socket_id'] . ':' . $message['channel_name'], 'app-secret');
            return json_encode(['auth' => 'app-key:' . $signature]);
        case 'array':
            return ['auth' => 'app-key:x', 'headers' => $message['headers']];
        case 'sleep':
            usleep((int) $message['us']);
            return 'late';
        case 'throw':
            throw new RuntimeException('the auth script failed');
        case 'exit':
            exit(1);
        default:
            return 42;
    }
})) {
    // next message
}
