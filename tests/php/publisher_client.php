<?php
// Runs a plan of publications through the PHP client library's Capstan\Publisher
// (clients/php/) and prints one JSON line per step: {"delivered":N} for a publication Capstan
// took, {"status":S,"reason":"...","delivered":D} for a PublishException. Driven by
// tests/integration/test_php_client.py.
//
// Usage: php publisher_client.php BASE_URL API_KEY PLAN_JSON
//   PLAN_JSON: a list of steps, each one of
//     {"op":"toRoute","route":..,"action":..,"data":..}
//     {"op":"toUsers","route":..,"action":..,"data":..,"users":[..]}
//     {"op":"toChannel","route":..,"channel":..,"data":..}
//     {"op":"batch","publications":[{"route":..,...}, ...]}
// Exit status: 0 when every step ran (refusals included); 1 and the reason on stderr otherwise.

declare(strict_types=1);

require __DIR__ . '/../../clients/php/tests/bootstrap.php';

use Capstan\PublishException;
use Capstan\Publisher;

if ($argc !== 4) {
    fwrite(STDERR, "usage: php publisher_client.php BASE_URL API_KEY PLAN_JSON\n");
    exit(1);
}
// Objects stay objects: a `{}` in the plan must reach Capstan as `{}`, not as PHP's `[]`.
$plan = json_decode($argv[3], false, 512, JSON_THROW_ON_ERROR);
$publisher = new Publisher($argv[1], $argv[2]);

foreach ($plan as $step) {
    try {
        $delivered = match ($step->op) {
            'toRoute' => $publisher->toRoute($step->route, $step->action, $step->data),
            'toUsers' => $publisher->toUsers($step->route, $step->action, $step->data, $step->users),
            'toChannel' => $publisher->toChannel($step->route, $step->channel, $step->data),
            'batch' => $publisher->batch($step->publications),
        };
        $line = ['delivered' => $delivered];
    } catch (PublishException $e) {
        $line = ['status' => $e->status(), 'reason' => $e->reason(), 'delivered' => $e->delivered()];
    }
    echo json_encode($line, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE), "\n";
}
