<?php

namespace Pogo\WebSocket\Tests;

use Illuminate\Contracts\Console\Kernel;
use Illuminate\Filesystem\Filesystem;
use Illuminate\Foundation\Testing\TestCase as LaravelTestCase;
use Pogo\WebSocket\PogoWebSocket;
use Pogo\WebSocket\WebSocketServiceProvider;

/**
 * A test on a copy of the skeleton Laravel application (tests/skeleton) in a
 * temporary folder, with the package's service provider registered and the
 * "pogo" connection as the default broadcaster.
 */
abstract class TestCase extends LaravelTestCase
{
    public const APP_ID = 'pogo-app';

    public const KEY = 'pogo-key';

    public const SECRET = 'pogo-secret';

    public const WEBHOOK_SECRET = 'webhook-secret';

    protected string $basePath;

    public function createApplication()
    {
        $files = new Filesystem;
        $this->basePath = sys_get_temp_dir().'/pogo-websocket-test-'.bin2hex(random_bytes(6));
        $files->copyDirectory(__DIR__.'/skeleton', $this->basePath);
        $files->put($this->basePath.'/.env', $this->env());

        $app = require $this->basePath.'/bootstrap/app.php';
        $app->make(Kernel::class)->bootstrap();
        $app->register(WebSocketServiceProvider::class);

        return $app;
    }

    protected function tearDown(): void
    {
        parent::tearDown();
        PogoWebSocket::resolveAuthenticatedUserUsing(null);
        (new Filesystem)->deleteDirectory($this->basePath);
    }

    /** The .env of the application under test. */
    protected function env(): string
    {
        return implode("\n", [
            'APP_ENV=testing',
            'APP_KEY=base64:'.base64_encode(random_bytes(32)),
            'BROADCAST_DRIVER=pogo',
            'SESSION_DRIVER=array',
            'CACHE_DRIVER=array',
            'WS_APP_ID='.self::APP_ID,
            'WS_APP_SECRET='.self::SECRET,
            'POGO_WEBHOOK_SECRET='.self::WEBHOOK_SECRET,
        ])."\n";
    }

    /** Sets the "pogo" connection's config. */
    protected function usePogoConnection(array $extra = []): void
    {
        $this->app['config']->set('broadcasting.connections.pogo', [
            'driver' => 'pogo',
            'app_id' => self::APP_ID,
            'key' => self::KEY,
            'secret' => self::SECRET,
        ] + $extra);
        $this->app['config']->set('broadcasting.default', 'pogo');
    }
}
