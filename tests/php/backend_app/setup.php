<?php

// Creates the test backend's database and fills it with the users' sessions and the products
// the integration tests use:  php setup.php /path/to/backend.sqlite
//
// Sessions (cookie => user):
//   PHPSESSID=alice-session-0001      -> 7  alice@example.com  {"name":"Alice"}   (Symfony)
//   fe_typo3_user=bob-fe-session-0002 -> 12 bob                {"name":"Bob"}     (TYPO3 frontend)
//   PHPSESSID=carol-session-0003      -> 3  carol@example.com  {"name":"Carol"}
// Products: 42 Chair 49.9, 7 Lamp 19.5.

declare(strict_types=1);

require __DIR__ . '/store.php';

use CapstanTestBackend\Store;

if ($argc !== 2) {
    fwrite(STDERR, "usage: php setup.php DB_PATH\n");
    exit(2);
}
if (!extension_loaded('pdo_sqlite')) {
    fwrite(STDERR, "php has no pdo_sqlite: apt-get install php8.2-sqlite3 (Debian 12)\n");
    exit(1);
}

$store = new Store($argv[1]);
$store->createSchema();
$store->addSession('PHPSESSID', 'alice-session-0001', 7, 'alice@example.com', ['name' => 'Alice']);
$store->addSession('fe_typo3_user', 'bob-fe-session-0002', 12, 'bob', ['name' => 'Bob']);
$store->addSession('PHPSESSID', 'carol-session-0003', 3, 'carol@example.com', ['name' => 'Carol']);
$store->addProduct(42, 'Chair', 49.9);
$store->addProduct(7, 'Lamp', 19.5);
echo "created {$argv[1]}\n";
