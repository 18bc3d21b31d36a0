<?php

namespace Pogo\WebSocket\Tests;

use Illuminate\Filesystem\Filesystem;

/** php artisan pogo:ws-install on the skeleton application. */
class InstallCommandTest extends TestCase
{
    private Filesystem $files;

    protected function setUp(): void
    {
        parent::setUp();
        $this->files = new Filesystem;
        // The skeleton's .env as `laravel new` leaves it, not the tests' one.
        $this->files->put($this->basePath.'/.env', $this->files->get($this->basePath.'/.env.example'));
    }

    private function read(string $path): string
    {
        return $this->files->get($this->basePath.'/'.$path);
    }

    /** @return array<string, string> every file of the app and its content */
    private function snapshot(): array
    {
        $all = [];
        foreach ($this->files->allFiles($this->basePath, true) as $file) {
            if (! str_starts_with($file->getRelativePathname(), 'storage/') && ! str_starts_with($file->getRelativePathname(), 'bootstrap/cache/')) {
                $all[$file->getRelativePathname()] = $file->getContents();
            }
        }
        ksort($all);

        return $all;
    }

    public function test_it_configures_a_fresh_app_and_says_what_is_next(): void
    {
        $this->artisan('pogo:ws-install')
            ->expectsOutput('Next: frankenphp run --config Caddyfile')
            ->assertExitCode(0)->run();

        $env = $this->read('.env');
        $this->assertStringContainsString("\nBROADCAST_DRIVER=pogo\n", $env);
        $this->assertStringContainsString("\nBROADCAST_CONNECTION=pogo\n", $env);
        $this->assertStringContainsString("\nWS_APP_ID=pogo-app\n", $env);
        $this->assertMatchesRegularExpression('/^WS_APP_SECRET=[0-9a-f]{64}$/m', $env);
        $this->assertMatchesRegularExpression('/^POGO_WEBHOOK_SECRET=[0-9a-f]{64}$/m', $env);
        $this->assertStringContainsString("\nVITE_POGO_APP_KEY=\"\${WS_APP_ID}\"\nVITE_POGO_HOST=localhost\nVITE_POGO_PORT=8080\nVITE_POGO_WSS_PORT=443\n", $env);
        preg_match('/^WS_APP_SECRET=(.*)$/m', $env, $secret);
        preg_match('/^POGO_WEBHOOK_SECRET=(.*)$/m', $env, $webhookSecret);
        $this->assertNotSame($secret[1], $webhookSecret[1]);

        $connections = (require $this->basePath.'/config/broadcasting.php')['connections'];
        $this->assertSame('pogo', $connections['pogo']['driver']);
        $this->assertArrayHasKey('pusher', $connections, 'the other connections stay');
        $this->assertStringContainsString("\n        App\\Providers\\BroadcastServiceProvider::class,", $this->read('config/app.php'));

        $echo = $this->read('resources/js/echo.js');
        $this->assertStringContainsString("authEndpoint: '/pogo/auth'", $echo);
        $this->assertStringContainsString("endpoint: '/pogo/user-auth'", $echo);
        $this->assertStringContainsString('key: import.meta.env.VITE_POGO_APP_KEY', $echo);

        $caddyfile = $this->read('Caddyfile');
        $this->assertStringContainsString('app_secret {$WS_APP_SECRET:'.$secret[1].'}', $caddyfile);
        $this->assertStringContainsString('auth_script public/websocket-worker.php', $caddyfile);
        // The server signs its webhooks with the secret /pogo/webhook checks, and sends them there.
        $this->assertStringContainsString('webhook_secret {$POGO_WEBHOOK_SECRET:'.$webhookSecret[1].'}', $caddyfile);
        $this->assertStringContainsString('webhook {$POGO_WEBHOOK_URL:http://127.0.0.1:8080/pogo/webhook}', $caddyfile);
        $this->assertStringContainsString('order pogo_websocket before php_server', $caddyfile);
        $this->assertSame($this->files->get(__DIR__.'/../stubs/websocket-worker.php'), $this->read('public/websocket-worker.php'));
    }

    public function test_a_second_run_changes_nothing(): void
    {
        $this->artisan('pogo:ws-install', ['--force' => true])->assertExitCode(0)->run();
        $before = $this->snapshot();

        $this->artisan('pogo:ws-install')
            ->expectsOutput('Pogo WebSocket was already installed: nothing changed.')
            ->assertExitCode(0)->run();

        $this->assertSame($before, $this->snapshot());
    }

    public function test_a_file_that_differs_is_kept_unless_confirmed_or_forced(): void
    {
        $this->files->ensureDirectoryExists($this->basePath.'/resources/js');
        $this->files->put($this->basePath.'/resources/js/echo.js', "// mine\n");
        $this->files->put($this->basePath.'/Caddyfile', "# mine\n");
        $this->files->put($this->basePath.'/.env', str_replace('BROADCAST_DRIVER=log', 'BROADCAST_DRIVER=pusher', $this->read('.env')));

        $this->artisan('pogo:ws-install')
            ->expectsConfirmation('Switch BROADCAST_DRIVER in .env from pusher to pogo?', 'no')
            ->expectsConfirmation('Overwrite resources/js/echo.js?', 'no')
            ->expectsConfirmation('Overwrite Caddyfile?', 'no')
            ->assertExitCode(0)->run();
        $this->assertSame("// mine\n", $this->read('resources/js/echo.js'));
        $this->assertSame("# mine\n", $this->read('Caddyfile'));
        $this->assertStringContainsString("\nBROADCAST_DRIVER=pusher\n", $this->read('.env'));

        $this->artisan('pogo:ws-install', ['--force' => true])->assertExitCode(0)->run();
        $this->assertStringContainsString("authEndpoint: '/pogo/auth'", $this->read('resources/js/echo.js'));
        $this->assertStringContainsString('pogo_websocket {', $this->read('Caddyfile'));
        $this->assertStringContainsString("\nBROADCAST_DRIVER=pogo\n", $this->read('.env'));
    }

    public function test_the_caddyfile_serves_the_app_per_request_or_with_octanes_worker(): void
    {
        $this->artisan('pogo:ws-install')->assertExitCode(0)->run();
        $perRequest = $this->read('Caddyfile');
        $this->assertStringNotContainsString('frankenphp-worker.php', $perRequest);
        $this->assertStringNotContainsString('worker {', $perRequest);

        $this->files->delete($this->basePath.'/Caddyfile');
        $this->files->put($this->basePath.'/public/frankenphp-worker.php', "<?php\n");
        $this->artisan('pogo:ws-install')->assertExitCode(0)->run();

        $octane = $this->read('Caddyfile');
        $this->assertStringContainsString("worker {\n\t\t\tfile public/frankenphp-worker.php\n\t\t}", $octane);
        $this->assertStringContainsString('try_files {path} frankenphp-worker.php', $octane);
    }

    public function test_existing_secrets_are_kept(): void
    {
        $this->files->append($this->basePath.'/.env', "WS_APP_SECRET=kept-secret\n");

        $this->artisan('pogo:ws-install', ['--force' => true])->assertExitCode(0)->run();

        $this->assertSame(1, substr_count($this->read('.env'), 'WS_APP_SECRET='));
        $this->assertStringContainsString("WS_APP_SECRET=kept-secret\n", $this->read('.env'));
        $this->assertStringContainsString('{$WS_APP_SECRET:kept-secret}', $this->read('Caddyfile'));
    }

    public function test_an_app_without_broadcasting_files_gets_them(): void
    {
        // Laravel 11's skeleton: no config/broadcasting.php, no routes/channels.php,
        // no broadcast provider; routing is configured in bootstrap/app.php.
        $this->files->delete([$this->basePath.'/config/broadcasting.php', $this->basePath.'/routes/channels.php']);
        $this->files->put($this->basePath.'/config/app.php', str_replace('// App\Providers\BroadcastServiceProvider::class,', '', $this->read('config/app.php')));
        $this->files->put($this->basePath.'/.env', "APP_NAME=Laravel\n");
        $bootstrap = $this->read('bootstrap/app.php');
        $this->files->put($this->basePath.'/bootstrap/app.php', $bootstrap."\n// ->withRouting(\n//     web: __DIR__.'/../routes/web.php',\n// )\n");

        $this->artisan('pogo:ws-install')->assertExitCode(0)->run();

        $config = require $this->basePath.'/config/broadcasting.php';
        $this->assertSame('pogo', $config['connections']['pogo']['driver']);
        $this->assertStringContainsString("env('BROADCAST_CONNECTION'", $this->read('config/broadcasting.php'));
        $this->assertStringContainsString("Broadcast::channel('App.Models.User.{id}'", $this->read('routes/channels.php'));
        $this->assertStringContainsString("channels: __DIR__.'/../routes/channels.php',", $this->read('bootstrap/app.php'));
        $env = $this->read('.env');
        $this->assertStringContainsString("BROADCAST_CONNECTION=pogo\n", $env);
        $this->assertStringNotContainsString('BROADCAST_DRIVER', $env, 'an app that reads BROADCAST_CONNECTION only');
    }
}
