<?php

namespace Pogo\WebSocket\Http;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Contracts\Config\Repository as Config;
use Illuminate\Http\JsonResponse;
use Illuminate\Http\Request;
use Pogo\WebSocket\Broadcasting\PogoBroadcaster;
use Pogo\WebSocket\PogoWebSocket;
use Pogo\WebSocket\Pusher\Signer;

/**
 * POST /pogo/auth (channel authorization with the app's routes/channels.php)
 * and POST /pogo/user-auth (user authentication for pusher:signin).
 */
final class AuthController
{
    private PogoBroadcaster $broadcaster;

    public function __construct(BroadcastManager $manager, Config $config)
    {
        $this->broadcaster = PogoWebSocket::broadcaster($manager, $config->get('pogo-websocket.connection'));
    }

    /** Answers {"auth"} or {"auth","channel_data"}, or 403. */
    public function channel(Request $request): JsonResponse
    {
        if ($request->hasSession()) {
            $request->session()->reflash();
        }

        return new JsonResponse($this->broadcaster->auth($request));
    }

    /** Answers {"auth","user_data"}, or 403 when no user is signed in. */
    public function user(Request $request): JsonResponse
    {
        $socketId = (string) $request->input('socket_id', '');
        if (! Signer::isSocketId($socketId)) {
            return new JsonResponse(['message' => 'Invalid socket_id.'], 400);
        }
        $user = PogoWebSocket::resolveAuthenticatedUser($request, $this->broadcaster);
        if ($user === null || ! isset($user['id'])) {
            return new JsonResponse(['message' => 'Unauthenticated.'], 403);
        }
        $user['id'] = (string) $user['id'];
        $userData = json_encode($user, JSON_THROW_ON_ERROR);

        return new JsonResponse(['auth' => $this->broadcaster->signer()->userAuth($socketId, $userData), 'user_data' => $userData]);
    }
}
