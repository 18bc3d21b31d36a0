<?php

namespace Pogo\WebSocket\Tests;

use Illuminate\Broadcasting\BroadcastException;
use Illuminate\Broadcasting\Channel;
use Illuminate\Broadcasting\PresenceChannel;
use Illuminate\Broadcasting\PrivateChannel;
use Illuminate\Support\Facades\Broadcast;
use Pogo\WebSocket\Broadcasting\HttpPublisher;
use Pogo\WebSocket\Broadcasting\NativePublisher;
use Pogo\WebSocket\Broadcasting\PogoBroadcaster;
use Pogo\WebSocket\Broadcasting\PublishCode;

/** The "pogo" driver with stand-ins for the module's PHP functions. */
class BroadcasterTest extends TestCase
{
    /** @var list<array{string, string, string, string, string, ?string}> */
    private array $calls = [];

    private int $code = 0;

    private function broadcaster(): PogoBroadcaster
    {
        $publish = function (string $appId, string $channel, string $event, string $data, ?string $socketId = null): int {
            $this->calls[] = ['publish', $appId, $channel, $event, $data, $socketId];

            return $this->code;
        };
        $multi = function (string $appId, string $channels, string $event, string $data, ?string $socketId = null): int {
            $this->calls[] = ['multi', $appId, $channels, $event, $data, $socketId];

            return $this->code;
        };

        return new PogoBroadcaster(new NativePublisher(self::APP_ID, $publish, $multi), self::KEY, self::SECRET);
    }

    public function test_one_channel_is_published_with_pogo_websocket_publish(): void
    {
        $this->broadcaster()->broadcast([new Channel('orders')], 'OrderShipped', ['id' => 7]);

        $this->assertSame([['publish', self::APP_ID, 'orders', 'OrderShipped', '{"id":7}', null]], $this->calls);
    }

    public function test_several_channels_go_through_broadcast_multi_in_chunks_of_100(): void
    {
        $channels = array_map(fn ($i) => new PrivateChannel("orders.$i"), range(1, 250));

        $this->broadcaster()->broadcast($channels, 'OrderShipped', ['id' => 7]);

        $this->assertCount(3, $this->calls);
        $sizes = array_map(fn ($call) => count(json_decode($call[2], true)), $this->calls);
        $this->assertSame([100, 100, 50], $sizes);
        $this->assertSame('private-orders.1', json_decode($this->calls[0][2], true)[0]);
        $this->assertSame('private-orders.250', json_decode($this->calls[2][2], true)[49]);
        foreach ($this->calls as $call) {
            $this->assertSame('multi', $call[0]);
        }
    }

    public function test_the_payloads_socket_becomes_the_socket_id_argument(): void
    {
        $this->broadcaster()->broadcast([new PresenceChannel('room')], 'Moved', ['x' => 1, 'socket' => '123.456']);

        $this->assertSame([['publish', self::APP_ID, 'presence-room', 'Moved', '{"x":1}', '123.456']], $this->calls);
    }

    /** @return iterable<string, array{int}> */
    public static function failureCodes(): iterable
    {
        foreach (PublishCode::MEANINGS as $code => $meaning) {
            yield $meaning => [$code];
        }
    }

    /** @dataProvider failureCodes */
    public function test_each_native_failure_code_throws_a_broadcast_exception_with_its_meaning(int $code): void
    {
        $this->code = $code;
        foreach ([['orders'], ['a', 'b']] as $channels) {
            try {
                $this->broadcaster()->broadcast($channels, 'OrderShipped', []);
                $this->fail("code $code did not throw");
            } catch (BroadcastException $e) {
                $this->assertSame($code, $e->getCode());
                $this->assertStringContainsString(PublishCode::MEANINGS[$code], $e->getMessage());
                $this->assertStringContainsString("(code $code)", $e->getMessage());
            }
        }
    }

    public function test_the_connection_publishes_over_http_outside_frankenphp(): void
    {
        $this->usePogoConnection();

        $broadcaster = Broadcast::connection('pogo');

        $this->assertInstanceOf(PogoBroadcaster::class, $broadcaster);
        $this->assertInstanceOf(HttpPublisher::class, $broadcaster->publisher());
    }

    public function test_native_can_be_forced_by_config(): void
    {
        $this->usePogoConnection(['native' => true]);

        $this->assertInstanceOf(NativePublisher::class, Broadcast::connection('pogo')->publisher());
    }

    public function test_the_connection_needs_an_app_id_and_a_secret(): void
    {
        $this->app['config']->set('broadcasting.connections.pogo', ['driver' => 'pogo', 'app_id' => 'a']);

        $this->expectExceptionMessage('needs app_id and secret');
        Broadcast::connection('pogo');
    }

    public function test_http_failures_become_broadcast_exceptions(): void
    {
        // A port nothing listens on: the connection is refused at once.
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $port = (int) substr(strrchr(stream_socket_get_name($socket, false), ':'), 1);
        fclose($socket);
        $publisher = new HttpPublisher(self::APP_ID, self::KEY, self::SECRET, "http://127.0.0.1:$port", 2.0);

        $this->expectException(BroadcastException::class);
        $this->expectExceptionMessage('unreachable');
        $publisher->publish(['orders'], 'OrderShipped', '{}', null);
    }
}
