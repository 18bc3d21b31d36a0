<?php

// An auth endpoint run as an extension worker, for authworkers_test.go:
// signs private channels for requests carrying the session cookie.

while (frankenphp_handle_request(function () {
    header('Content-Type: application/json');
    if (($_COOKIE['session'] ?? '') !== 'alice') {
        http_response_code(403);
        echo json_encode(['error' => 'not signed in']);
        return;
    }
    if (($_POST['mode'] ?? '') === 'huge') {
        echo str_repeat('x', 100000);
        return;
    }
    $signature = hash_hmac('sha256', $_POST['socket_id'] . ':' . $_POST['channel_name'], 'app-secret');
    echo json_encode(['auth' => 'app-key:' . $signature, 'user' => $_SERVER['HTTP_X_USER'] ?? null]);
})) {
    // next request
}
