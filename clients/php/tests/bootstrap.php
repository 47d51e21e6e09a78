<?php

declare(strict_types=1);

// PSR-4 for Capstan\ -> src/ and Capstan\Tests\ -> tests/, as composer.json declares them,
// so that the tests (and scripts outside a composer project) need no vendor/ directory.
spl_autoload_register(static function (string $class): void {
    foreach (['Capstan\\Tests\\' => __DIR__ . '/', 'Capstan\\' => dirname(__DIR__) . '/src/'] as $prefix => $dir) {
        if (str_starts_with($class, $prefix)) {
            $file = $dir . str_replace('\\', '/', substr($class, strlen($prefix))) . '.php';
            if (is_file($file)) {
                require $file;
            }
            return;
        }
    }
});
