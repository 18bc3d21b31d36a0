<?php

// The POGO_WEBSOCKET_* return-code constants, by name.

header('Content-Type: application/json');
echo json_encode(get_defined_constants(true)['pogo_websocket'] ?? null);
