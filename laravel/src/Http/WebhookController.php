<?php

namespace Pogo\WebSocket\Http;

use Illuminate\Contracts\Config\Repository as Config;
use Illuminate\Contracts\Events\Dispatcher;
use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use Pogo\WebSocket\Events\WebhookEvent;
use Pogo\WebSocket\Pusher\Signer;

/**
 * POST /pogo/webhook: verifies a Pusher webhook's X-Pusher-Signature with
 * POGO_WEBHOOK_SECRET and dispatches one Laravel event per webhook event.
 */
final class WebhookController
{
    public function __invoke(Request $request, Config $config, Dispatcher $events): JsonResponse
    {
        $body = $request->getContent();
        $signer = new Signer('', (string) $config->get('pogo-websocket.webhook_secret', ''));
        if (! $signer->verifiesWebhook($body, (string) $request->header('X-Pusher-Signature', ''))) {
            return new JsonResponse(['message' => 'Invalid webhook signature.'], 401);
        }
        $webhook = json_decode($body, true);
        if (! is_array($webhook) || ! is_array($webhook['events'] ?? null)) {
            return new JsonResponse(['message' => 'A webhook is {"time_ms":…,"events":[…]}.'], 400);
        }
        $timeMs = (int) ($webhook['time_ms'] ?? 0);
        foreach ($webhook['events'] as $entry) {
            if (is_array($entry) && ($event = WebhookEvent::fromPusher($entry, $timeMs)) !== null) {
                $events->dispatch($event);
            }
        }

        return new JsonResponse(new \stdClass);
    }
}
