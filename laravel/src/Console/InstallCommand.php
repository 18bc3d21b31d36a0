<?php

namespace Pogo\WebSocket\Console;

use Illuminate\Console\Command;
use Illuminate\Filesystem\Filesystem;
use Pogo\WebSocket\WebSocketServiceProvider;

/**
 * php artisan pogo:ws-install: .env, the "pogo" connection, broadcasting
 * enabled, resources/js/echo.js, a Caddyfile and public/websocket-worker.php.
 * Running it again changes nothing; it overwrites nothing without --force or
 * a confirmation.
 */
class InstallCommand extends Command
{
    protected $signature = 'pogo:ws-install {--force : Overwrite files that differ without asking}';

    protected $description = 'Configure this application for Pogo WebSocket';

    /** The "pogo" connection added to config/broadcasting.php. */
    public const CONNECTION = <<<'PHP'
        'pogo' => [
            'driver' => 'pogo',
            'app_id' => env('WS_APP_ID'),
            'secret' => env('WS_APP_SECRET'),
            'host' => env('WS_HOST', '127.0.0.1'),
            'port' => env('WS_PORT', 8080),
            'scheme' => env('WS_SCHEME', 'http'),
        ],

PHP;

    private Filesystem $files;

    private bool $changed = false;

    public function handle(Filesystem $files): int
    {
        $this->files = $files;
        $this->changed = false;
        $env = $this->installEnv();
        $this->installConnection();
        $this->enableBroadcasting();
        $this->installFile('resources/js/echo.js', $this->stub('echo.js'));
        $this->installFile('Caddyfile', $this->caddyfile($env));
        $this->installFile('public/websocket-worker.php', $this->stub('websocket-worker.php'));

        $this->newLine();
        $this->line($this->changed ? 'Pogo WebSocket is installed.' : 'Pogo WebSocket was already installed: nothing changed.');
        $this->line('Next: <info>frankenphp run --config Caddyfile</info>');

        return self::SUCCESS;
    }

    /**
     * Adds the variables the package reads to .env and returns the values
     * .env holds afterwards.
     *
     * @return array<string, string>
     */
    private function installEnv(): array
    {
        $path = $this->laravel->basePath('.env');
        $text = $this->files->exists($path) ? $this->files->get($path) : '';
        $current = $this->parseEnv($text);

        $wanted = ['BROADCAST_CONNECTION' => 'pogo'];
        if (array_key_exists('BROADCAST_DRIVER', $current) || $this->appReads('BROADCAST_DRIVER')) {
            $wanted['BROADCAST_DRIVER'] = 'pogo';
        }
        $wanted += [
            'WS_APP_ID' => 'pogo-app',
            'WS_APP_SECRET' => bin2hex(random_bytes(32)),
            'POGO_WEBHOOK_SECRET' => bin2hex(random_bytes(32)),
            'VITE_POGO_APP_KEY' => '"${WS_APP_ID}"',
            'VITE_POGO_HOST' => 'localhost',
            'VITE_POGO_PORT' => '8080',
            'VITE_POGO_WSS_PORT' => '443',
        ];

        $added = [];
        foreach ($wanted as $name => $value) {
            if (! array_key_exists($name, $current)) {
                $added[] = $name.'='.$value;
                $current[$name] = $value;
                continue;
            }
            // Only the broadcaster is switched; existing values (secrets above all) stay.
            // Laravel's skeletons set log (or null), which is no choice to keep: a real
            // broadcaster (pusher, reverb, ...) is only replaced with a confirmation.
            if (str_starts_with($name, 'BROADCAST_') && $current[$name] !== $value) {
                $placeholder = in_array($current[$name], ['', 'log', 'null'], true);
                if ($placeholder || $this->mayOverwrite("Switch {$name} in .env from {$current[$name]} to {$value}?", false)) {
                    $text = preg_replace('/^'.$name.'=.*$/m', $name.'='.$value, $text);
                    $current[$name] = $value;
                    $this->changed("updated .env: {$name}={$value}");
                }
            }
        }
        if ($added !== []) {
            $text = rtrim($text, "\n").($text === '' ? '' : "\n\n").implode("\n", $added)."\n";
            $this->changed('added to .env: '.implode(', ', array_map(fn ($l) => strstr($l, '=', true), $added)));
        } else {
            $this->unchanged('.env');
        }
        $this->files->put($path, $text);

        return $current;
    }

    /** Adds the "pogo" connection to config/broadcasting.php. */
    private function installConnection(): void
    {
        $path = $this->laravel->configPath('broadcasting.php');
        if (! $this->files->exists($path)) {
            $this->files->ensureDirectoryExists(dirname($path));
            $this->files->put($path, $this->stub('broadcasting.php'));
        }
        $text = $this->files->get($path);
        if (preg_match("/['\"]pogo['\"]\s*=>/", $text)) {
            $this->unchanged('config/broadcasting.php');

            return;
        }
        $updated = preg_replace("/(['\"]connections['\"]\s*=>\s*\[[^\n]*\n)/", '$1'."\n".self::CONNECTION, $text, 1, $count);
        if ($count !== 1) {
            $this->warn('config/broadcasting.php has no "connections" array: add this connection by hand:');
            $this->line(self::CONNECTION);

            return;
        }
        $this->files->put($path, $updated);
        $this->changed('added the "pogo" connection to config/broadcasting.php');
    }

    /** Makes the application load routes/channels.php (and Broadcast::routes()). */
    private function enableBroadcasting(): void
    {
        $channels = $this->laravel->basePath('routes/channels.php');
        if (! $this->files->exists($channels)) {
            $this->files->ensureDirectoryExists(dirname($channels));
            $this->files->put($channels, $this->stub('channels.php'));
            $this->changed('created routes/channels.php');
        }

        // Laravel 8 to 10: the skeleton's BroadcastServiceProvider, commented out in config/app.php.
        $app = $this->laravel->configPath('app.php');
        $text = $this->files->exists($app) ? $this->files->get($app) : '';
        if (preg_match('#^\s*//\s*(App\\\\Providers\\\\BroadcastServiceProvider::class,)#m', $text)) {
            $this->files->put($app, preg_replace('#^(\s*)//\s*(App\\\\Providers\\\\BroadcastServiceProvider::class,)#m', '$1$2', $text, 1));
            $this->changed('enabled App\Providers\BroadcastServiceProvider in config/app.php');

            return;
        }
        if (str_contains($text, 'App\Providers\BroadcastServiceProvider::class')) {
            $this->unchanged('broadcasting (App\Providers\BroadcastServiceProvider)');

            return;
        }

        // Laravel 11 and later: withRouting(channels: ...) in bootstrap/app.php.
        $bootstrap = $this->laravel->basePath('bootstrap/app.php');
        $text = $this->files->exists($bootstrap) ? $this->files->get($bootstrap) : '';
        if (str_contains($text, '->withRouting(')) {
            if (str_contains($text, 'channels:')) {
                $this->unchanged('broadcasting (bootstrap/app.php channels:)');

                return;
            }
            $text = preg_replace('/(->withRouting\(\s*\n)(\s*)/', "$1$2channels: __DIR__.'/../routes/channels.php',\n$2", $text, 1);
            $this->files->put($bootstrap, $text);
            $this->changed('added channels: routes/channels.php to withRouting() in bootstrap/app.php');

            return;
        }
        $this->warn('Could not find where this application loads routes/channels.php: call Broadcast::routes() and require it from a service provider.');
    }

    /** Writes $content to $relative unless the file already holds it. */
    private function installFile(string $relative, string $content): void
    {
        $path = $this->laravel->basePath($relative);
        if ($this->files->exists($path)) {
            if ($this->files->get($path) === $content) {
                $this->unchanged($relative);

                return;
            }
            if (! $this->mayOverwrite("Overwrite {$relative}?", false)) {
                $this->line("  kept {$relative}, which differs from the package's (--force overwrites it)");

                return;
            }
        }
        $this->files->ensureDirectoryExists(dirname($path));
        $this->files->put($path, $content);
        $this->changed("wrote {$relative}");
    }

    /** The Caddyfile for this application, with the .env values as defaults. */
    private function caddyfile(array $env): string
    {
        $octane = $this->files->exists($this->laravel->basePath('public/frankenphp-worker.php'));

        return strtr($this->stub('Caddyfile'), [
            '{{app_id}}' => $env['WS_APP_ID'],
            '{{app_secret}}' => $env['WS_APP_SECRET'],
            '{{webhook_secret}}' => $env['POGO_WEBHOOK_SECRET'],
            // Octane's worker when the app has it (the documentation's setup), PHP per request otherwise.
            '{{frankenphp}}' => $octane ? "\tfrankenphp {\n\t\tworker {\n\t\t\tfile public/frankenphp-worker.php\n\t\t}\n\t}" : "\tfrankenphp",
            '{{php_server}}' => $octane
                ? "\t\tphp_server {\n\t\t\tindex frankenphp-worker.php\n\t\t\ttry_files {path} frankenphp-worker.php\n\t\t\tresolve_root_symlink\n\t\t}"
                : "\t\tphp_server {\n\t\t\tresolve_root_symlink\n\t\t}",
        ]);
    }

    private function mayOverwrite(string $question, bool $default): bool
    {
        return $this->option('force') || $this->confirm($question, $default);
    }

    /** Whether the application's config reads the environment variable $name. */
    private function appReads(string $name): bool
    {
        $path = $this->laravel->configPath('broadcasting.php');

        return $this->files->exists($path) && str_contains($this->files->get($path), "'{$name}'");
    }

    /** @return array<string, string> */
    private function parseEnv(string $text): array
    {
        preg_match_all('/^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$/m', $text, $m, PREG_SET_ORDER);
        $values = [];
        foreach ($m as [, $name, $value]) {
            $value = trim($value);
            if (preg_match('/\A(["\'])(.*)\1\z/', $value, $quoted)) {
                $value = $quoted[2];
            }
            $values[$name] = $value;
        }

        return $values;
    }

    private function stub(string $name): string
    {
        return $this->files->get(WebSocketServiceProvider::PACKAGE_DIR.'/stubs/'.$name);
    }

    private function changed(string $message): void
    {
        $this->changed = true;
        $this->line('  <info>✓</info> '.$message);
    }

    private function unchanged(string $what): void
    {
        $this->line("  unchanged: {$what}");
    }
}
