<?php

declare(strict_types=1);

namespace Capstan;

/**
 * Publishes through Capstan's publish API (SPEC 4): `POST <base>/publish` with
 * `Authorization: Bearer <[publish] api_key>`; the answer is 202 `{"delivered":N}`, the number
 * of connections reached. How a Symfony or TYPO3 backend notifies users without being a
 * WebSocket client.
 *
 * `data` is encoded with json_encode: an empty PHP array is `[]`; pass `new \stdClass()` or an
 * object for `{}`. One curl handle per Publisher, so consecutive publications reuse one
 * keep-alive connection.
 */
final class Publisher
{
    private readonly string $url;
    private ?\CurlHandle $curl = null;

    /** @param string $baseUrl where Capstan listens, e.g. `http://127.0.0.1:8080` */
    public function __construct(string $baseUrl, private readonly string $apiKey, private readonly float $timeout = 5.0)
    {
        if ($timeout <= 0) {
            throw new \InvalidArgumentException('the timeout is a positive number of seconds');
        }
        if (strpbrk($apiKey, "\r\n") !== false) {
            throw new \InvalidArgumentException('the API key holds a line break');  // it goes into a header line
        }
        $this->url = rtrim($baseUrl, '/') . '/publish';
    }

    /** To every connection of a `notify` route. */
    public function toRoute(string $route, string $action, mixed $data): int
    {
        return $this->post(['route' => $route, 'action' => $action, 'data' => $data]);
    }

    /**
     * To these users' connections on a `notify` route, each on all of its connections.
     *
     * @param list<int|string> $users user ids or identities (the JWT's identity claim)
     */
    public function toUsers(string $route, string $action, mixed $data, array $users): int
    {
        return $this->post(['route' => $route, 'action' => $action, 'data' => $data, 'users' => array_values($users)]);
    }

    /**
     * To the subscribers of a channel on a `pubsub` route; they receive
     * `{"action":"message","data":"{\"channel\":...,\"message\":<data>}"}`. There is no action
     * to choose: pubsub always sends `message` (it ignores one given), so none is sent.
     */
    public function toChannel(string $route, string $channel, mixed $data): int
    {
        return $this->post(['route' => $route, 'channel' => $channel, 'data' => $data]);
    }

    /**
     * Several publications in one request, delivered in order; the sum of their counts.
     * Capstan checks every entry's shape and route before delivering any; but what a route's
     * component refuses (a channel on a notify route, a bad channel name) it refuses while the
     * other entries are delivered, so a 400 may come with a PublishException::delivered() > 0:
     * do not blindly resend the whole batch.
     *
     * @param list<array<string, mixed>|object> $publications each `{"route","action","data","users"?,"channel"?}`
     */
    public function batch(array $publications): int
    {
        if (!array_is_list($publications)) {
            throw new \InvalidArgumentException('batch: a list of publications');
        }
        // Capstan refuses an empty batch (400); having nothing to say is not an error here.
        return $publications === [] ? 0 : $this->post($publications);
    }

    /** @throws PublishException */
    private function post(array $body): int
    {
        $curl = $this->curl ??= $this->handle();
        curl_setopt($curl, CURLOPT_POSTFIELDS, Json::encode($body));
        $answer = curl_exec($curl);
        if ($answer === false) {
            throw new PublishException(0, curl_error($curl) . " ($this->url)");
        }
        return self::delivered(curl_getinfo($curl, CURLINFO_RESPONSE_CODE), $answer);
    }

    private function handle(): \CurlHandle
    {
        $curl = curl_init();
        $timeoutMs = (int) ceil($this->timeout * 1000);
        curl_setopt_array($curl, [
            CURLOPT_URL => $this->url,
            CURLOPT_POST => true,
            CURLOPT_HTTPHEADER => [
                'Authorization: Bearer ' . $this->apiKey,
                'Content-Type: application/json',
                'Accept: application/json',
                // Else curl asks for "100 Continue" before a large body and waits a second for it.
                'Expect:',
            ],
            CURLOPT_RETURNTRANSFER => true,
            CURLOPT_FOLLOWLOCATION => false,
            CURLOPT_PROTOCOLS => CURLPROTO_HTTP | CURLPROTO_HTTPS,
            CURLOPT_CONNECTTIMEOUT_MS => $timeoutMs,
            CURLOPT_TIMEOUT_MS => $timeoutMs,
        ]);
        return $curl;
    }

    /** The count of a 2xx answer; a PublishException with the server's `error` otherwise. */
    private static function delivered(int $status, string $answer): int
    {
        $json = json_decode($answer, true);
        if ($status >= 200 && $status < 300) {
            if (is_array($json) && is_int($json['delivered'] ?? null)) {
                return $json['delivered'];
            }
            throw new PublishException($status, 'an answer without a delivered count: ' . substr($answer, 0, 200));
        }
        $reason = is_array($json) && is_string($json['error'] ?? null) ? $json['error'] : substr($answer, 0, 200);
        $delivered = is_array($json) && is_int($json['delivered'] ?? null) ? $json['delivered'] : 0;
        throw new PublishException($status, $reason === '' ? "HTTP $status" : $reason, $delivered);
    }
}
