<?php

echo function_exists('pogo_websocket_publish') ? 'ready' : 'the pogo_websocket extension is not loaded';
