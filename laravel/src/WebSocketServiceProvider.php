<?php

namespace Pogo\WebSocket;

use Illuminate\Broadcasting\BroadcastManager;
use Illuminate\Routing\Router;
use Illuminate\Support\ServiceProvider;
use InvalidArgumentException;
use Pogo\WebSocket\Broadcasting\HttpPublisher;
use Pogo\WebSocket\Broadcasting\NativePublisher;
use Pogo\WebSocket\Broadcasting\PogoBroadcaster;
use Pogo\WebSocket\Console\InstallCommand;
use Pogo\WebSocket\Http\AuthController;
use Pogo\WebSocket\Http\WebhookController;

/**
 * Registers the "pogo" broadcasting driver, the /pogo/auth, /pogo/user-auth
 * and /pogo/webhook routes, and php artisan pogo:ws-install.
 */
class WebSocketServiceProvider extends ServiceProvider
{
    /** The package's root folder (laravel/). */
    public const PACKAGE_DIR = __DIR__.'/..';

    public function register(): void
    {
        $this->mergeConfigFrom(self::PACKAGE_DIR.'/config/pogo-websocket.php', 'pogo-websocket');
    }

    public function boot(): void
    {
        $this->callAfterResolving(BroadcastManager::class, function (BroadcastManager $manager): void {
            $manager->extend('pogo', fn ($app, array $config) => self::makeBroadcaster($config));
        });

        if (! $this->app->routesAreCached()) {
            $this->registerRoutes($this->app->make(Router::class));
        }

        if ($this->app->runningInConsole()) {
            $this->commands([InstallCommand::class]);
            $this->publishes([self::PACKAGE_DIR.'/config/pogo-websocket.php' => $this->app->configPath('pogo-websocket.php')], 'pogo-websocket-config');
            $this->publishes([self::PACKAGE_DIR.'/stubs/websocket-worker.php' => $this->app->basePath('public/websocket-worker.php')], 'pogo-websocket-worker');
        }
    }

    /**
     * Builds the broadcaster of a "pogo" connection: keys app_id, secret, key
     * (default: app_id), host, port, scheme and timeout for the HTTP path, and
     * native (default: whether this PHP runs inside FrankenPHP with the module).
     *
     * @param  array<string, mixed>  $config
     */
    public static function makeBroadcaster(array $config): PogoBroadcaster
    {
        $appId = (string) ($config['app_id'] ?? '');
        $secret = (string) ($config['secret'] ?? '');
        if ($appId === '' || $secret === '') {
            throw new InvalidArgumentException('The "pogo" broadcasting connection needs app_id and secret (WS_APP_ID and WS_APP_SECRET).');
        }
        $key = (string) ($config['key'] ?? '') ?: $appId;

        if ($config['native'] ?? NativePublisher::available()) {
            $publisher = new NativePublisher($appId);
        } else {
            $url = sprintf('%s://%s:%d', $config['scheme'] ?? 'http', $config['host'] ?? '127.0.0.1', (int) ($config['port'] ?? 8080));
            $publisher = new HttpPublisher($appId, $key, $secret, $url, (float) ($config['timeout'] ?? 5.0));
        }

        return new PogoBroadcaster($publisher, $key, $secret);
    }

    private function registerRoutes(Router $router): void
    {
        $routes = $this->app['config']->get('pogo-websocket.routes', []);
        $router->group(['middleware' => $routes['middleware'] ?? ['web']], function (Router $router) use ($routes): void {
            $router->match(['GET', 'POST'], $routes['auth'] ?? '/pogo/auth', [AuthController::class, 'channel'])->name('pogo.auth');
            $router->match(['GET', 'POST'], $routes['user_auth'] ?? '/pogo/user-auth', [AuthController::class, 'user'])->name('pogo.user-auth');
        });
        // A server-to-server call: no session, no CSRF token; the signature authenticates it.
        $router->post($routes['webhook'] ?? '/pogo/webhook', WebhookController::class)->name('pogo.webhook');
    }
}
