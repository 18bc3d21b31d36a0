<?php

namespace Pogo\WebSocket\Tests;

use Illuminate\Auth\GenericUser;
use Illuminate\Support\Facades\Broadcast;
use Pogo\WebSocket\PogoWebSocket;

/** POST /pogo/auth and POST /pogo/user-auth. */
class AuthRoutesTest extends TestCase
{
    private const SOCKET = '1234.5678';

    protected function setUp(): void
    {
        parent::setUp();
        $this->usePogoConnection();
        Broadcast::channel('orders.{id}', fn ($user, $id) => (int) $id === 7);
        Broadcast::channel('room.{id}', fn ($user, $id) => ['name' => $user->name]);
    }

    private function ann(): GenericUser
    {
        return new GenericUser(['id' => 42, 'name' => 'Ann', 'remember_token' => null]);
    }

    private function sign(string $text): string
    {
        return self::KEY.':'.hash_hmac('sha256', $text, self::SECRET);
    }

    public function test_a_private_channel_the_callback_allows_gets_a_signed_auth(): void
    {
        $response = $this->actingAs($this->ann())->post('/pogo/auth', ['socket_id' => self::SOCKET, 'channel_name' => 'private-orders.7']);

        $response->assertStatus(200);
        $this->assertSame(['auth' => $this->sign(self::SOCKET.':private-orders.7')], $response->json());
    }

    public function test_a_presence_channel_gets_auth_and_channel_data_with_the_callbacks_user_info(): void
    {
        $response = $this->actingAs($this->ann())->post('/pogo/auth', ['socket_id' => self::SOCKET, 'channel_name' => 'presence-room.1']);

        $response->assertStatus(200);
        $channelData = '{"user_id":42,"user_info":{"name":"Ann"}}';
        $this->assertSame(['auth' => $this->sign(self::SOCKET.':presence-room.1:'.$channelData), 'channel_data' => $channelData], $response->json());
    }

    public function test_a_channel_the_callback_refuses_is_403(): void
    {
        $this->actingAs($this->ann())->post('/pogo/auth', ['socket_id' => self::SOCKET, 'channel_name' => 'private-orders.8'])->assertStatus(403);
    }

    public function test_a_guest_is_refused_a_private_channel(): void
    {
        $this->post('/pogo/auth', ['socket_id' => self::SOCKET, 'channel_name' => 'private-orders.7'])->assertStatus(403);
    }

    public function test_a_malformed_socket_id_is_400(): void
    {
        $this->actingAs($this->ann())->post('/pogo/auth', ['socket_id' => '1234', 'channel_name' => 'private-orders.7'])->assertStatus(400);
    }

    public function test_user_auth_signs_the_users_id_for_pusher_signin(): void
    {
        $response = $this->actingAs($this->ann())->post('/pogo/user-auth', ['socket_id' => self::SOCKET]);

        $response->assertStatus(200);
        $this->assertSame(['auth' => $this->sign(self::SOCKET.'::user::{"id":"42"}'), 'user_data' => '{"id":"42"}'], $response->json());
    }

    public function test_user_auth_uses_the_configured_resolver(): void
    {
        PogoWebSocket::resolveAuthenticatedUserUsing(fn ($request) => ['id' => $request->user()->id, 'user_info' => ['name' => $request->user()->name]]);

        $response = $this->actingAs($this->ann())->post('/pogo/user-auth', ['socket_id' => self::SOCKET]);

        $userData = '{"id":"42","user_info":{"name":"Ann"}}';
        $this->assertSame(['auth' => $this->sign(self::SOCKET.'::user::'.$userData), 'user_data' => $userData], $response->json());
    }

    public function test_user_auth_refuses_guests(): void
    {
        $this->post('/pogo/user-auth', ['socket_id' => self::SOCKET])->assertStatus(403);
    }

    public function test_the_paths_are_configurable(): void
    {
        $routes = $this->app['router']->getRoutes();
        $routes->refreshNameLookups();

        $this->assertSame('pogo/auth', $routes->getByName('pogo.auth')->uri());
        $this->assertSame('pogo/user-auth', $routes->getByName('pogo.user-auth')->uri());
        $this->assertContains('web', $routes->getByName('pogo.auth')->middleware());
    }
}
