<?php

// What an application page does: publish to one channel, then to several at once.

$order = ['id' => (int) ($_GET['id'] ?? 0), 'items' => ['book', 'pen']];
$data = json_encode($order);

$single = pogo_websocket_publish('app-id', $_GET['channel'], 'order-shipped', $data);
$multi = pogo_websocket_broadcast_multi('app-id', json_encode(explode(',', $_GET['channels'])), 'order-shipped', $data);

header('Content-Type: application/json');
echo json_encode(['publish' => $single, 'broadcast_multi' => $multi]);
