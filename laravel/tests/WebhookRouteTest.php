<?php

namespace Pogo\WebSocket\Tests;

use Illuminate\Support\Facades\Event;
use Pogo\WebSocket\Events\CacheMiss;
use Pogo\WebSocket\Events\ChannelOccupied;
use Pogo\WebSocket\Events\ChannelVacated;
use Pogo\WebSocket\Events\ClientEventReceived;
use Pogo\WebSocket\Events\MemberAdded;
use Pogo\WebSocket\Events\MemberRemoved;
use Pogo\WebSocket\Events\SubscriptionCountChanged;

/** POST /pogo/webhook: Pusher webhooks into Laravel events. */
class WebhookRouteTest extends TestCase
{
    private function postWebhook(string $body, ?string $signature = null)
    {
        return $this->call('POST', '/pogo/webhook', [], [], [], [
            'CONTENT_TYPE' => 'application/json',
            'HTTP_X_PUSHER_KEY' => self::KEY,
            'HTTP_X_PUSHER_SIGNATURE' => $signature ?? hash_hmac('sha256', $body, self::WEBHOOK_SECRET),
        ], $body);
    }

    public function test_each_webhook_event_becomes_its_laravel_event(): void
    {
        Event::fake();
        $body = json_encode(['time_ms' => 1700000000123, 'events' => [
            ['name' => 'channel_occupied', 'channel' => 'orders'],
            ['name' => 'channel_vacated', 'channel' => 'orders'],
            ['name' => 'member_added', 'channel' => 'presence-room', 'user_id' => '42'],
            ['name' => 'member_removed', 'channel' => 'presence-room', 'user_id' => '42'],
            ['name' => 'client_event', 'channel' => 'private-chat', 'event' => 'client-typing', 'data' => '{"on":true}', 'socket_id' => '1.2', 'user_id' => '42'],
            ['name' => 'cache_miss', 'channel' => 'cache-news'],
            ['name' => 'subscription_count', 'channel' => 'orders', 'subscription_count' => 3],
            ['name' => 'something_new', 'channel' => 'orders'],
        ]]);

        $this->postWebhook($body)->assertStatus(200);

        Event::assertDispatched(ChannelOccupied::class, fn ($e) => $e->channel === 'orders' && $e->timeMs === 1700000000123);
        Event::assertDispatched(ChannelVacated::class, fn ($e) => $e->channel === 'orders');
        Event::assertDispatched(MemberAdded::class, fn ($e) => $e->channel === 'presence-room' && $e->userId() === '42');
        Event::assertDispatched(MemberRemoved::class, fn ($e) => $e->userId() === '42');
        Event::assertDispatched(ClientEventReceived::class, fn ($e) => $e->event() === 'client-typing' && $e->data() === '{"on":true}' && $e->socketId() === '1.2' && $e->userId() === '42');
        Event::assertDispatched(CacheMiss::class, fn ($e) => $e->channel === 'cache-news');
        Event::assertDispatched(SubscriptionCountChanged::class, fn ($e) => $e->subscriptionCount() === 3);
        Event::assertDispatchedTimes(ChannelOccupied::class, 1);
    }

    public function test_a_wrong_signature_is_401_and_dispatches_nothing(): void
    {
        Event::fake();
        $body = '{"time_ms":1,"events":[{"name":"channel_occupied","channel":"orders"}]}';

        $this->postWebhook($body, hash_hmac('sha256', $body, 'another-secret'))->assertStatus(401);
        $this->postWebhook($body, '')->assertStatus(401);

        Event::assertNotDispatched(ChannelOccupied::class);
    }

    public function test_without_a_webhook_secret_every_webhook_is_401(): void
    {
        $this->app['config']->set('pogo-websocket.webhook_secret', null);
        $body = '{"time_ms":1,"events":[]}';

        $this->postWebhook($body, hash_hmac('sha256', $body, ''))->assertStatus(401);
    }

    public function test_a_signed_body_that_is_not_a_webhook_is_400(): void
    {
        $this->postWebhook('{"time_ms":1}')->assertStatus(400);
        $this->postWebhook('not json')->assertStatus(400);
    }

    public function test_the_webhook_route_needs_no_csrf_token_or_session(): void
    {
        $routes = $this->app['router']->getRoutes();
        $routes->refreshNameLookups();
        $this->assertNotContains('web', $routes->getByName('pogo.webhook')->middleware());
    }
}
