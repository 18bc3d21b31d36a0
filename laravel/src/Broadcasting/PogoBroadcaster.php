<?php

namespace Pogo\WebSocket\Broadcasting;

use Illuminate\Broadcasting\Broadcasters\Broadcaster;
use Illuminate\Broadcasting\Broadcasters\UsePusherChannelConventions;
use Illuminate\Support\Arr;
use Illuminate\Support\Str;
use Pogo\WebSocket\Pusher\Signer;
use Symfony\Component\HttpKernel\Exception\AccessDeniedHttpException;
use Symfony\Component\HttpKernel\Exception\BadRequestHttpException;

/**
 * The "pogo" broadcaster: publishes through a Publisher (in process inside
 * FrankenPHP, over signed HTTP elsewhere) and signs channel and user
 * authorizations with the app secret, as Laravel's Pusher broadcaster does.
 */
class PogoBroadcaster extends Broadcaster
{
    use UsePusherChannelConventions;

    /** Pusher's limit on channels per publish, which Laravel's Pusher broadcaster chunks by. */
    public const CHANNELS_PER_PUBLISH = 100;

    private Signer $signer;

    public function __construct(
        private Publisher $publisher,
        string $key,
        string $secret,
    ) {
        $this->signer = new Signer($key, $secret);
    }

    /** The publisher this broadcaster sends events through. */
    public function publisher(): Publisher
    {
        return $this->publisher;
    }

    /** The signer of this connection's key and secret. */
    public function signer(): Signer
    {
        return $this->signer;
    }

    /**
     * Authorizes a channel subscription with the app's channel callbacks.
     *
     * @param  \Illuminate\Http\Request  $request
     * @return mixed
     *
     * @throws AccessDeniedHttpException
     */
    public function auth($request)
    {
        $channel = (string) $request->input('channel_name', '');
        if (! Signer::isSocketId((string) $request->input('socket_id', ''))) {
            throw new BadRequestHttpException('Invalid socket_id.');
        }
        $normalized = $this->normalizeChannelName($channel);
        if ($channel === '' || ($this->isGuardedChannel($channel) && ! $this->retrieveUser($request, $normalized))) {
            throw new AccessDeniedHttpException;
        }

        return parent::verifyUserCanAccessChannel($request, $normalized);
    }

    /**
     * The signed answer for an authorized channel: {"auth"} for private
     * channels, {"auth","channel_data"} for presence channels.
     *
     * @param  \Illuminate\Http\Request  $request
     * @param  mixed  $result
     * @return array<string, string>
     */
    public function validAuthenticationResponse($request, $result)
    {
        $channel = (string) $request->input('channel_name');
        $socketId = (string) $request->input('socket_id');
        if (! Str::startsWith($channel, 'presence-')) {
            return ['auth' => $this->signer->channelAuth($socketId, $channel)];
        }

        $user = $this->retrieveUser($request, $this->normalizeChannelName($channel));
        $member = ['user_id' => method_exists($user, 'getAuthIdentifierForBroadcasting')
            ? $user->getAuthIdentifierForBroadcasting()
            : $user->getAuthIdentifier()];
        if (is_array($result) && $result !== []) {
            $member['user_info'] = $result;
        }
        $channelData = json_encode($member, JSON_THROW_ON_ERROR);

        return ['auth' => $this->signer->channelAuth($socketId, $channel, $channelData), 'channel_data' => $channelData];
    }

    /**
     * Broadcasts $event to $channels in chunks of 100, leaving out the
     * connection of the payload's "socket" (toOthers()).
     *
     * @param  array  $channels
     * @param  string  $event
     * @param  array  $payload
     *
     * @throws \Illuminate\Broadcasting\BroadcastException
     */
    public function broadcast(array $channels, $event, array $payload = [])
    {
        $socket = Arr::pull($payload, 'socket');
        $data = json_encode($payload, JSON_THROW_ON_ERROR);
        foreach (array_chunk($this->formatChannels($channels), self::CHANNELS_PER_PUBLISH) as $chunk) {
            $this->publisher->publish($chunk, (string) $event, $data, $socket === null ? null : (string) $socket);
        }
    }
}
