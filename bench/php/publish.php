<?php

// The publish loop of `loadgen -mode php`: one request, one PHP thread, n calls of
// pogo_websocket_publish to one channel. Each event's data is the JSON string
// "bench:<step>:<unix ns>:<padding>" (the data must be JSON),
// which loadgen parses for the step and the publish→receive latency. The answer reports the
// calls that returned 0, the others, and the loop's own time (hrtime, nanoseconds).

$app = (string) ($_GET['app'] ?? 'bench-app');
$channel = (string) ($_GET['channel'] ?? 'php-1');
$n = max(1, min((int) ($_GET['n'] ?? 1000), 1000000));
$step = (int) ($_GET['step'] ?? 0);
$pad = str_repeat('x', max(0, min((int) ($_GET['pad'] ?? 100), 10000) - 30));

$published = 0;
$failed = 0;
$firstCode = 0;
// Unix nanoseconds = hrtime + base: one clock read per call, not two.
$base = (int) (microtime(true) * 1e6) * 1000 - hrtime(true);
$start = hrtime(true);
for ($i = 0; $i < $n; $i++) {
    $data = '"bench:' . $step . ':' . ($base + hrtime(true)) . ':' . $pad . '"';
    $code = pogo_websocket_publish($app, $channel, 'bench', $data);
    if ($code === 0) {
        $published++;
    } elseif ($failed++ === 0) {
        $firstCode = $code;
    }
}
$elapsed = hrtime(true) - $start;

header('Content-Type: application/json');
echo json_encode(['published' => $published, 'failed' => $failed, 'first_code' => $firstCode, 'elapsed_ns' => $elapsed]);
