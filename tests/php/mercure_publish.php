<?php
// Publishes one update through Symfony's Mercure component (Debian's php-symfony-mercure),
// exactly as a Symfony application does: new Hub($url, new StaticTokenProvider($jwt)) and
// $hub->publish(new Update(...)). Prints the id the hub answered.
//
// Usage: php mercure_publish.php HUB_URL UPDATE_JSON
//   the publisher JWT comes from the environment variable MERCURE_JWT;
//   UPDATE_JSON: {"topics": [...], "data": "...", "private": false, "id": null, "type": null, "retry": null}
// Exit status: 0 and the id on stdout; 1 and the reason on stderr.

declare(strict_types=1);

use Symfony\Component\Mercure\Hub;
use Symfony\Component\Mercure\Jwt\StaticTokenProvider;
use Symfony\Component\Mercure\Update;

$autoload = '/usr/share/php/Symfony/Component/Mercure/autoload.php';
if (is_file($autoload)) {
    require $autoload;
} else {
    // A PSR-4 autoloader over /usr/share/php (Symfony\Component\X\Y -> Symfony/Component/X/Y.php).
    spl_autoload_register(static function (string $class): void {
        $file = '/usr/share/php/' . str_replace('\\', '/', $class) . '.php';
        if (is_file($file)) {
            require $file;
        }
    });
}
foreach ([Hub::class, StaticTokenProvider::class, Update::class, 'Symfony\Component\HttpClient\HttpClient'] as $class) {
    if (!class_exists($class)) {
        fwrite(STDERR, "class $class not found: install php-symfony-mercure and php-symfony-http-client\n");
        exit(1);
    }
}

if ($argc !== 3) {
    fwrite(STDERR, "usage: php mercure_publish.php HUB_URL UPDATE_JSON (and MERCURE_JWT in the environment)\n");
    exit(1);
}
$jwt = getenv('MERCURE_JWT');
if ($jwt === false || $jwt === '') {
    fwrite(STDERR, "MERCURE_JWT is not set\n");
    exit(1);
}
$spec = json_decode($argv[2], true, 512, JSON_THROW_ON_ERROR);

try {
    $hub = new Hub($argv[1], new StaticTokenProvider($jwt));
    $id = $hub->publish(new Update(
        $spec['topics'],
        $spec['data'] ?? '',
        (bool) ($spec['private'] ?? false),
        $spec['id'] ?? null,
        $spec['type'] ?? null,
        $spec['retry'] ?? null
    ));
} catch (\Throwable $e) {
    $message = get_class($e) . ': ' . $e->getMessage();
    for ($previous = $e->getPrevious(); $previous !== null; $previous = $previous->getPrevious()) {
        $message .= ' <- ' . get_class($previous) . ': ' . $previous->getMessage();
    }
    fwrite(STDERR, $message . "\n");
    exit(1);
}
echo $id;
