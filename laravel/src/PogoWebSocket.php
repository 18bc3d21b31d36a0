<?php

namespace Pogo\WebSocket;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Http\Request;
use Pogo\WebSocket\Broadcasting\PogoBroadcaster;
use RuntimeException;

/**
 * The package's entry points for an application: who a user is for
 * pusher:signin, and which broadcaster signs the auth answers.
 */
final class PogoWebSocket
{
    /** @var (callable(Request): ?array)|null */
    private static $userResolver = null;

    /**
     * Sets how /pogo/user-auth finds the user_data of a request's user: the
     * callback returns an array with a string "id" (and optionally
     * "user_info", "watchlist"), or null to refuse. Without it, Laravel's own
     * Broadcast::resolveAuthenticatedUserUsing() callback is used where Laravel
     * has one (9 and later), and otherwise the authenticated user's identifier.
     *
     * @param  (callable(Request): ?array)|null  $resolver
     */
    public static function resolveAuthenticatedUserUsing(?callable $resolver): void
    {
        self::$userResolver = $resolver;
    }

    /**
     * The user_data of the request's user, or null when nobody is signed in.
     *
     * @return array<string, mixed>|null
     */
    public static function resolveAuthenticatedUser(Request $request, PogoBroadcaster $broadcaster): ?array
    {
        if (self::$userResolver !== null) {
            return (self::$userResolver)($request);
        }
        if (method_exists($broadcaster, 'resolveAuthenticatedUser')) { // Laravel 9 and later
            $user = $broadcaster->resolveAuthenticatedUser($request);
            if ($user !== null) {
                return $user;
            }
        }
        $user = $request->user();

        return $user === null ? null : ['id' => (string) $user->getAuthIdentifier()];
    }

    /** The pogo broadcaster that signs the auth answers (config pogo-websocket.connection). */
    public static function broadcaster(BroadcastManager $manager, ?string $connection): PogoBroadcaster
    {
        $broadcaster = $manager->connection($connection);
        if (! $broadcaster instanceof PogoBroadcaster) {
            throw new RuntimeException(sprintf(
                'The broadcasting connection [%s] does not use the "pogo" driver: set BROADCAST_CONNECTION=pogo or POGO_BROADCAST_CONNECTION.',
                $connection ?? $manager->getDefaultDriver(),
            ));
        }

        return $broadcaster;
    }
}
