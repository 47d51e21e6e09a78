<?php

// The test backend: a real HTTP application standing in for a Symfony / TYPO3 site behind
// Capstan (SPEC 5a), for tests/integration/test_{connect,action,event}_proxy.py. Run by PHP's
// built-in server, several workers so that a slow answer does not hold the others up:
//
//   CAPSTAN_BACKEND_SECRET=... BACKEND_DB=/tmp/b.sqlite PHP_CLI_SERVER_WORKERS=4 \
//       php -S 127.0.0.1:8000 tests/php/backend_app/router.php
//
// (create the database first: php tests/php/backend_app/setup.php /tmp/b.sqlite)
//
// Environment:
//   CAPSTAN_BACKEND_SECRET  the [backend] secret; every request's X-Capstan-Signature is
//                           checked with it (clients/php ProxyRequest): wrong or missing -> 401
//   BACKEND_DB              the SQLite database setup.php made (sessions, products, the log)
//   BACKEND_SIGNATURE_LOG   JSON lines, one per refused signature (default: next to BACKEND_DB)
//
// Endpoints (POST): /ws/connect, /ws/connect-slow, /ws/connect-broken, /ws/action, /ws/events;
// see handlers.php. Every request is recorded in the `requests` table, in arrival order, with
// its start and end times (the end written before the answer leaves).

declare(strict_types=1);

require __DIR__ . '/../../../clients/php/tests/bootstrap.php';
require __DIR__ . '/store.php';
require __DIR__ . '/handlers.php';

use Capstan\ProxyRequest;
use Capstan\ProxyResponse;
use Capstan\SignatureException;
use CapstanTestBackend\BadRequest;
use CapstanTestBackend\Handlers;
use CapstanTestBackend\RawAnswer;
use CapstanTestBackend\Store;

$started = microtime(true);
$endpoint = (string) (parse_url($_SERVER['REQUEST_URI'] ?? '/', PHP_URL_PATH) ?: '/');

/** Emits an answer; $seq's row gets its status and end time first. */
$answer = static function (?Store $store, int $seq, int $status, string $body): void {
    $store?->finish($seq, $status);
    http_response_code($status);
    header('Content-Type: application/json');
    header('Content-Length: ' . strlen($body));
    echo $body;
};

if ($endpoint === '/health') {  // for a human with curl; the tests wait for the port
    $answer(null, 0, 200, '{"ok":true}');
    return;
}

try {
    $store = Store::fromEnvironment();
} catch (\Throwable $e) {
    error_log('backend_app: ' . $e->getMessage());
    $answer(null, 0, 500, json_encode(['message' => $e->getMessage()]));
    return;
}

$body = (string) file_get_contents('php://input');
$seq = $store->begin($endpoint, $started, $body);
$store->describe($seq, ['content_type' => $_SERVER['CONTENT_TYPE'] ?? $_SERVER['HTTP_CONTENT_TYPE'] ?? null]);

$handlers = new Handlers($store);
$routes = [
    '/ws/connect' => [ProxyRequest::CONNECT, $handlers->connect(...)],
    '/ws/connect-slow' => [ProxyRequest::CONNECT, $handlers->connectSlow(...)],
    '/ws/connect-broken' => [ProxyRequest::CONNECT, $handlers->connectBroken(...)],
    '/ws/action' => [ProxyRequest::ACTION, $handlers->action(...)],
    '/ws/events' => [ProxyRequest::EVENT, $handlers->events(...)],
];
if (!isset($routes[$endpoint])) {
    $answer($store, $seq, 404, '{"message":"no such endpoint"}');
    return;
}
if (($_SERVER['REQUEST_METHOD'] ?? '') !== 'POST') {
    $store->describe($seq, ['note' => 'method ' . ($_SERVER['REQUEST_METHOD'] ?? '?')]);
    $answer($store, $seq, 405, '{"message":"POST only"}');
    return;
}
[$kind, $handler] = $routes[$endpoint];

// The signature first: nothing in an unsigned body is looked at.
$secret = (string) getenv('CAPSTAN_BACKEND_SECRET');
$header = $_SERVER['HTTP_X_CAPSTAN_SIGNATURE'] ?? null;
try {
    $request = ProxyRequest::fromParts($body, is_string($header) ? $header : null, $secret);
} catch (SignatureException $e) {
    $log = getenv('BACKEND_SIGNATURE_LOG') ?: dirname((string) getenv('BACKEND_DB')) . '/signature-failures.log';
    file_put_contents($log, json_encode(['at' => microtime(true), 'endpoint' => $endpoint, 'fault' => $e->getMessage(),
                                         'header' => $header], JSON_UNESCAPED_SLASHES) . "\n", FILE_APPEND | LOCK_EX);
    $store->describe($seq, ['signature' => $e->getMessage()]);
    $answer($store, $seq, 401, ProxyResponse::refuse(401)->body());
    return;
} catch (\InvalidArgumentException $e) {
    $store->describe($seq, ['signature' => 'ok', 'note' => $e->getMessage()]);
    $answer($store, $seq, 400, json_encode(['message' => $e->getMessage()]));
    return;
}

$fields = $request->toArray();
$store->describe($seq, [
    'signature' => 'ok',
    'kind' => $request->kind(),
    'event' => $request->event(),
    'action' => $request->kind() === ProxyRequest::ACTION ? $request->action() : null,
    'connection' => $request->connection(),
    'route' => $request->route(),
]);
if ($request->kind() !== $kind) {
    $store->describe($seq, ['note' => "expected a $kind request, got a {$request->kind()} request"]);
    $answer($store, $seq, 400, json_encode(['message' => "$endpoint takes $kind requests"]));
    return;
}

try {
    $response = $handler($request);
} catch (BadRequest $e) {
    $store->describe($seq, ['note' => $e->getMessage()]);
    $answer($store, $seq, 400, json_encode(['message' => $e->getMessage()]));
    return;
} catch (\Throwable $e) {
    error_log("backend_app: $endpoint: " . $e);
    $store->describe($seq, ['note' => 'exception: ' . $e->getMessage()]);
    $answer($store, $seq, 500, '{"message":"internal error"}');
    return;
}
if ($response instanceof RawAnswer) {
    $answer($store, $seq, $response->status, $response->body);
} else {
    $answer($store, $seq, $response->status(), $response->body());
}
