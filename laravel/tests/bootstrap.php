<?php

// Autoloading for the package's tests without Composer: the framework from
// Composer's vendor/ when the package is installed that way, Debian's
// php-laravel-framework (on the include path) otherwise; the package, its
// tests and the skeleton app by PSR-4.

$vendor = __DIR__.'/../../vendor/autoload.php';
if (is_file($vendor)) {
    require $vendor;
} else {
    require 'Illuminate/autoload.php';
}

spl_autoload_register(function (string $class): void {
    $roots = [
        'Pogo\\WebSocket\\Tests\\' => __DIR__.'/',
        'Pogo\\WebSocket\\' => __DIR__.'/../src/',
        'App\\' => __DIR__.'/skeleton/app/',
    ];
    foreach ($roots as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir.str_replace('\\', '/', substr($class, strlen($prefix))).'.php';
            if (is_file($file)) {
                require $file;
            }

            return;
        }
    }
});
